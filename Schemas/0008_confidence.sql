-- 0008_confidence: per-zone confidence of every analysis (docs/model-card.md, "Calibration").
-- zone_confidence: JSON {"A": p, ..., "F": p}, p = calibrated probability of the reported grade (0..1);
-- analyses.confidence (since 0001) holds the study confidence, the mean of the six.
-- calibration_temperature: the temperature the probabilities were scaled with (NULL: the model has no
-- calibration; confidences are then not recorded).
ALTER TABLE analyses ADD COLUMN zone_confidence TEXT;
ALTER TABLE analyses ADD COLUMN calibration_temperature REAL CHECK (calibration_temperature IS NULL OR calibration_temperature > 0);
