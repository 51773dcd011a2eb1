import sys
from pathlib import Path

import pytest

TRAINING = Path(__file__).resolve().parents[1]
REPO = TRAINING.parent
SHARED = REPO.parent / "shared"
REF = SHARED / "data" / "reference" / "bsnet-keras"
COHEN = SHARED / "data" / "cohen"
sys.path.insert(0, str(TRAINING))

needs_reference = pytest.mark.skipif(not (REF / "bscore_scaled_weights.h5").exists(),
                                     reason=f"needs ../shared reference data ({REF} absent)")
needs_cohen = pytest.mark.skipif(not (COHEN / "annotations.csv").exists(),
                                 reason=f"needs ../shared cohen data ({COHEN} absent)")
