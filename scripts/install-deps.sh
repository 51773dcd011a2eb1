#!/usr/bin/env bash
# Installs the Debian packages Brixia needs to build, test and run, when they are missing.
# Idempotent: does nothing (and needs no root) when everything is already there.
set -euo pipefail
PKGS=(
  libdcmtk-dev dcmtk          # DICOM reading/writing (DCMTK) and its tools used by tests
  libopenblas-dev             # SGEMM for the inference engine
  libsqlite3-dev              # SQLite for GRDB
  libhdf5-dev                 # Keras h5 weight import
  libopenjp2-7-dev            # JPEG 2000 decoding
  libpng-dev libjpeg-dev      # plain image files and PNG previews
  dicom3tools                 # dciodvfy: validates every DICOM object we write
  unzip                       # reading .npz reference vectors in tests
  orthanc curl                # a real PACS on loopback for the DICOM networking tests
  python3-venv                # the consumer venv (highdicom) of the conformance test (scripts/consumer-venv.sh)
  chromium chromium-driver    # headless browser test of the web console (scripts/console-browser-test.sh)
  fonts-dejavu-core
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "brixia: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "brixia: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
