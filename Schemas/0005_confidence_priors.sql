-- 0005_confidence_priors: what each analysis compared against, so that a report whose prior changed
-- (an earlier exam arrived after it was issued) can be found and re-issued as an amended report.
-- prior_analysis_ref: the analysis of the prior exam this analysis reported against (NULL: none).
-- prior_known: 1 when prior_analysis_ref was recorded (analyses stored before this migration have 0:
-- what they compared against is unknown).
ALTER TABLE analyses ADD COLUMN prior_analysis_ref INTEGER REFERENCES analyses(id);
ALTER TABLE analyses ADD COLUMN prior_known INTEGER NOT NULL DEFAULT 0 CHECK (prior_known IN (0, 1));
