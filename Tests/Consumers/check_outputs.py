#!/usr/bin/env python3
"""Reads Brixia's outputs with their consumers. Usage: check_outputs.py OUTPUT_DIR REPO_ROOT

OUTPUT_DIR holds examN.source.dcm (the analysed images) and their outputs examN.sr.dcm, exam1.sc.dcm,
exam1.seg.dcm (written by Tests/PipelineTests/ConsumerConformanceTests.swift). Checks:
  * highdicom srread + Measurement Report API: six zone groups with finding site and laterality, the global
    score, tracking identifiers; both exams of the patient share their tracking UIDs;
  * highdicom segread, pixels by source instance;
  * the study-level attributes of every output equal the source's (pydicom);
  * Orthanc (scripts/orthanc-start.sh) ingests source and outputs in either order: one study per source study,
    with the source's study-level attributes.
Prints "<check>: ok" lines; exits non-zero with the reason on the first failure."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request

import highdicom as hd
import numpy as np
import pydicom

out_dir, repo = sys.argv[1], sys.argv[2]
path = lambda name: os.path.join(out_dir, name)
ZONES = "ABCDEF"
SITES = {0: "281392002", 1: "281393007", 2: "281394001"}   # upper / middle / lower zone of lung
RIGHT, LEFT = "24028007", "7771000"


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def code_value(item):
    """The code value of a highdicom code content item or coded concept."""
    if "ConceptCodeSequence" in item:
        return str(item.ConceptCodeSequence[0].CodeValue)
    if "CodeValue" in item:
        return str(item.CodeValue)
    return str(item.value)


# ---- highdicom SR ----
def read_report(name):
    sr = hd.sr.srread(path(name))
    report = sr.content
    check(isinstance(report, hd.sr.MeasurementReport), f"{name}: content is {type(report).__name__}, not a MeasurementReport")
    groups = report.get_image_measurement_groups()
    check(len(groups) == 7, f"{name}: {len(groups)} image measurement groups, expected 7 (six zones + global)")
    tracking = {}
    for g in groups:
        ms = g.get_measurements()
        check(len(ms) >= 1, f"{name}: group {g.tracking_identifier} has no measurement")
        code = ms[0].name.value
        sites = g.finding_sites
        check(len(sites) == 1, f"{name}: group {g.tracking_identifier} has {len(sites)} finding sites")
        site, lat = sites[0], sites[0].laterality
        check(lat is not None, f"{name}: group {g.tracking_identifier} finding site has no laterality")
        if code.startswith("BRX-ZONE-"):
            z = code[-1]
            i = ZONES.index(z)
            check(code_value(site) == SITES[i % 3], f"{name}: zone {z} site {code_value(site)}")
            check(code_value(lat) == (RIGHT if i < 3 else LEFT), f"{name}: zone {z} laterality {code_value(lat)}")
            check(0 <= ms[0].value <= 3, f"{name}: zone {z} grade {ms[0].value}")
            tracking[z] = g.tracking_uid
        elif code == "BRX-GLOBAL":
            check(0 <= ms[0].value <= 18, f"{name}: global {ms[0].value}")
            tracking["global"] = g.tracking_uid
        else:
            fail(f"{name}: unexpected first measurement {code}")
        check(g.tracking_uid and g.tracking_identifier, f"{name}: group without tracking identifier/UID")
    check(sorted(tracking) == sorted(list(ZONES) + ["global"]), f"{name}: groups {sorted(tracking)}")
    return tracking


t1, t2 = read_report("exam1.sr.dcm"), read_report("exam2.sr.dcm")
check(t1 == t2, f"consecutive SRs of one patient have different tracking UIDs: {t1} vs {t2}")
check(len(set(t1.values())) == 7, "tracking UIDs are not distinct per zone")
print("highdicom SR: ok (7 measurement groups with site and laterality; tracking UIDs shared by both exams)")

# ---- highdicom SEG ----
seg = hd.seg.segread(path("exam1.seg.dcm"))
src = pydicom.dcmread(path("exam1.source.dcm"))
pixels = seg.get_pixels_by_source_instance(source_sop_instance_uids=[src.SOPInstanceUID], segment_numbers=[1],
                                           rescale_fractional=False)
check(pixels.shape[:3] == (1, src.Rows, src.Columns), f"SEG pixels by source instance: shape {pixels.shape}")
check(int(np.asarray(pixels).max()) > 0, "SEG pixels are all zero")
print(f"highdicom SEG: ok (pixels by source instance {pixels.shape})")

# ---- study-level attributes (pydicom) ----
STUDY = ["StudyInstanceUID", "StudyID", "StudyDate", "StudyTime", "AccessionNumber", "ReferringPhysicianName",
         "TimezoneOffsetFromUTC", "PatientName", "PatientID", "IssuerOfPatientID", "PatientSex", "PatientBirthDate",
         "PatientAge"]


def attrs(ds):
    a = {k: str(ds.get(k, "")) for k in STUDY}
    a["IssuerOfAccessionNumber"] = [str(i.get("LocalNamespaceEntityID", "")) for i in ds.get("IssuerOfAccessionNumberSequence", [])]
    a["OtherPatientIDs"] = [(str(i.PatientID), str(i.get("IssuerOfPatientID", ""))) for i in ds.get("OtherPatientIDsSequence", [])]
    return a


for exam, outputs in [("exam1", ["sr", "sc", "seg"]), ("exam2", ["sr"])]:
    want = attrs(pydicom.dcmread(path(f"{exam}.source.dcm")))
    check(want["StudyID"] and want["ReferringPhysicianName"] and want["OtherPatientIDs"], f"{exam}: fixture lacks attributes")
    for kind in outputs:
        got = attrs(pydicom.dcmread(path(f"{exam}.{kind}.dcm")))
        diff = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
        check(not diff, f"{exam}.{kind}: study-level attributes differ from the source: {diff}")
print("study attributes: ok (identical to the source in every output)")


# ---- Orthanc ----
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A clean signal mask for the Orthanc this starts: the calling test process blocks signals in its threads, and an
# inherited mask would keep orthanc-stop.sh's SIGTERM from ever reaching Orthanc (it would wait 15 s, then SIGKILL).
signal.pthread_sigmask(signal.SIG_SETMASK, [])


def orthanc_round(order):
    work = tempfile.mkdtemp(prefix="brixia-orthanc-")
    dport, hport = free_port(), free_port()
    start = subprocess.run(["bash", os.path.join(repo, "scripts/orthanc-start.sh"), work, str(dport), str(hport)],
                           capture_output=True, text=True, timeout=180)
    check(start.returncode == 0, f"orthanc-start: {start.stdout}{start.stderr}")
    base = f"http://127.0.0.1:{hport}"
    try:
        for name in order:
            with open(path(name), "rb") as f:
                req = urllib.request.Request(base + "/instances", data=f.read(), method="POST")
                with urllib.request.urlopen(req, timeout=30) as r:
                    check(r.status == 200, f"Orthanc refused {name}: {r.status}")
        studies = json.load(urllib.request.urlopen(base + "/studies?expand", timeout=30))
        check(len(studies) == 2, f"Orthanc has {len(studies)} studies for 2 source studies ({order})")
        for exam in ["exam1", "exam2"]:
            src = pydicom.dcmread(path(f"{exam}.source.dcm"))
            st = [s for s in studies if s["MainDicomTags"].get("StudyInstanceUID") == src.StudyInstanceUID]
            check(len(st) == 1, f"{exam}: {len(st)} Orthanc studies")
            tags = st[0]["MainDicomTags"]
            for k in ["StudyID", "AccessionNumber", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyDescription"]:
                check(tags.get(k, "") == str(src.get(k, "")), f"{exam} ({order[0]} first): Orthanc {k} = {tags.get(k)!r}, source {src.get(k)!r}")
            pat = st[0]["PatientMainDicomTags"]
            check(pat.get("PatientName") == str(src.PatientName), f"{exam}: Orthanc PatientName {pat.get('PatientName')!r}")
    finally:
        subprocess.run(["bash", os.path.join(repo, "scripts/orthanc-stop.sh"), work], capture_output=True, timeout=60)


if subprocess.run(["bash", "-c", "command -v Orthanc"], capture_output=True).returncode != 0 and os.geteuid() != 0 \
        and subprocess.run(["bash", "-c", "command -v sudo"], capture_output=True).returncode != 0:
    print("orthanc: SKIPPED (Orthanc not installed and cannot be installed without root)")
    sys.exit(0)
sources = ["exam1.source.dcm", "exam2.source.dcm"]
outputs = ["exam1.sr.dcm", "exam1.sc.dcm", "exam1.seg.dcm", "exam2.sr.dcm"]
orthanc_round(outputs + sources)
orthanc_round(sources + outputs)
print("orthanc: ok (outputs first and source first: one study per source study, identical study attributes)")
