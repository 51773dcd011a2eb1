# The shipped model's statements in model.json, sourced by budget_run.sh and head_run.sh so both exports say
# the same (bash; sets SHIPPED_NAME, INTENDED_USE unless set, SHIPPED_LICENCE, SHIPPED_NOTES).
SHIPPED_NAME=bsnet-brixia-own
INTENDED_USE=${INTENDED_USE:-"AI-generated output for research only, not verified by a physician, not for diagnostic use. A small model trained on 144 public images; cross-validated figures and their baselines are in model.json and docs/model-card.md. Import the authors' weights (brixia model import-keras) for their published accuracy."}
SHIPPED_LICENCE="weights: trained on the COVID-19 image data collection (Cohen et al.) with BrixIA annotations, CC BY-NC-SA 4.0: non-commercial use only"
SHIPPED_NOTES="research model, not for clinical use; cross-validated figures in docs/model-card.md"
