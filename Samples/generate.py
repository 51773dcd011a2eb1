#!/usr/bin/env python3
"""Makes Brixia's project-made sample studies from a procedural chest phantom.

Usage: python3 Samples/generate.py          (writes into Samples/; deterministic: a rerun reproduces
                                             the committed files byte for byte)
Needs numpy and DCMTK's tools (dump2dcm, dcmcjpls, dcmcrle). See Samples/README.md.

The phantom is synthetic (no patient data): body, two lungs, ribs, clavicles, spine, mediastinum, heart,
diaphragm, plus ground-glass / consolidation opacities whose extent per lung zone (A-F, Brixia grade 0-3) is
set per exam, so that trends over several days can be demonstrated. The grades are the generator's intent,
not a radiologist's reading.
"""
import hashlib
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 800          # pixels; 0.4 mm spacing -> 32 cm field
UID_ROOT = "2.25."  # UUID-derived UIDs (no registered root needed)


def uid(*parts):
    """Deterministic 2.25 UID from a name."""
    h = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return UID_ROOT + str(int.from_bytes(h[:15], "big"))


def blur(img, sigma):
    r = int(3 * sigma) + 1
    x = np.arange(-r, r + 1)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    k /= k.sum()
    img = np.apply_along_axis(lambda m: np.convolve(m, k, mode="same"), 0, img)
    return np.apply_along_axis(lambda m: np.convolve(m, k, mode="same"), 1, img)


def ellipse(u, v, cu, cv, ru, rv, p=2.0):
    return (np.abs((u - cu) / ru) ** p + np.abs((v - cv) / rv) ** p) <= 1.0


def frontal_phantom(grades, seed, n=SIZE):
    """Attenuation map in [0,1] (1 = bone-bright). grades: dict zone -> 0..3."""
    rng = np.random.default_rng(seed)
    v, u = np.mgrid[0:n, 0:n] / float(n)
    img = np.zeros((n, n))
    body = ellipse(u, v, 0.5, 0.58, 0.44, 0.56)
    img[body] = 0.50
    # lungs (patient right = image left), lower border shaped by the diaphragm domes
    dome_r = 0.72 - 0.10 * ((u - 0.32) / 0.16) ** 2
    dome_l = 0.75 - 0.10 * ((u - 0.68) / 0.15) ** 2
    lung_r = ellipse(u, v, 0.32, 0.46, 0.15, 0.33, 2.4) & (v < dome_r)
    lung_l = ellipse(u, v, 0.68, 0.47, 0.14, 0.32, 2.4) & (v < dome_l)
    lungs = lung_r | lung_l
    img[lungs] = 0.16
    # mediastinum and heart
    med = (np.abs(u - 0.5) < 0.06 + 0.03 * v) & (v > 0.08) & body
    img[med] = 0.62
    heart = ellipse(u, v, 0.56, 0.63, 0.15, 0.13)
    img[heart] = np.maximum(img[heart], 0.60)
    # abdomen below the domes
    img[body & (v > np.minimum(dome_r, dome_l) + 0.04) & ~lungs] = np.maximum(img[body & (v > np.minimum(dome_r, dome_l) + 0.04) & ~lungs], 0.58)
    # spine
    img[(np.abs(u - 0.5) < 0.035) & body] += 0.12
    # ribs: posterior arcs on both sides
    ribs = np.zeros_like(img)
    for k in range(10):
        y0 = 0.16 + 0.062 * k
        for side in (-1, 1):
            du = (u - 0.5) * side
            curve = y0 + 0.35 * (du - 0.05) ** 2 - 0.02
            band = (np.abs(v - curve) < 0.010 + 0.001 * k) & (du > 0.04) & (du < 0.40)
            ribs[band] = 0.14
    img += blur(ribs, 1.5) * body
    # clavicles
    for side in (-1, 1):
        du = (u - 0.5) * side
        clav = (np.abs(v - (0.14 + 0.10 * du)) < 0.012) & (du > 0.05) & (du < 0.33) & body
        img[clav] += 0.18
    # opacities per Brixia zone: A/B/C = right upper/middle/lower thirds, D/E/F = left;
    # only in the visible lung fields (not behind the mediastinum or heart)
    lung_mask = blur((lungs & ~med & ~heart).astype(float), 4)
    opac = np.zeros_like(img)
    zones = {"A": (0.32, 0.22), "B": (0.30, 0.45), "C": (0.30, 0.63),
             "D": (0.68, 0.23), "E": (0.70, 0.46), "F": (0.70, 0.65)}
    for z, (cu, cv) in zones.items():
        g = grades.get(z, 0)
        if g == 0:
            continue
        blobs = 2 + 3 * g
        for _ in range(blobs):
            bu = cu + rng.normal(0, 0.05)
            bv = cv + rng.normal(0, 0.05)
            s = rng.uniform(0.025, 0.045) * (1 + 0.3 * g)
            amp = {1: 0.05, 2: 0.09, 3: 0.16}[g] * rng.uniform(0.7, 1.2)
            opac += amp * np.exp(-(((u - bu) ** 2 + (v - bv) ** 2) / (2 * s * s)))
    img += np.minimum(opac, 0.35) * lung_mask
    img = blur(img, 2.0)
    img += rng.normal(0, 0.004, img.shape)
    return np.clip(img, 0, 1)


def lateral_phantom(seed, n=512):
    rng = np.random.default_rng(seed)
    v, u = np.mgrid[0:n, 0:n] / float(n)
    img = np.zeros((n, n))
    body = ellipse(u, v, 0.5, 0.55, 0.30, 0.50)
    img[body] = 0.5
    lung = ellipse(u, v, 0.5, 0.45, 0.22, 0.30) & (v < 0.72 - 0.2 * (u - 0.5))
    img[lung] = 0.2
    img[ellipse(u, v, 0.42, 0.62, 0.12, 0.12)] = 0.6
    img[(np.abs(u - 0.74) < 0.04) & body] += 0.2   # spine, posterior
    img = blur(img, 2.0) + rng.normal(0, 0.004, img.shape)
    return np.clip(img, 0, 1)


def to_stored(att, mono1, bits=12):
    top = (1 << bits) - 1
    mono2 = np.round(200 + att * (top - 400)).astype(np.uint16)
    return (top - mono2) if mono1 else mono2


def write_dicom(path, pixels, hdr, compress=None):
    """hdr: list of dump2dcm lines (without pixel data). compress: None, 'jpegls' or 'rle'."""
    rows, cols = pixels.shape
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "px.raw")
        pixels.astype("<u2").tofile(raw)
        dump = os.path.join(tmp, "d.dump")
        lines = ["(0002,0010) UI =LittleEndianExplicit"] + hdr + [
            "(0028,0002) US 1", f"(0028,0010) US {rows}", f"(0028,0011) US {cols}",
            "(0028,0100) US 16", "(0028,0101) US 12", "(0028,0102) US 11", "(0028,0103) US 0",
            f"(7fe0,0010) OW ={raw}"]
        with open(dump, "wb") as f:
            f.write("\n".join(lines).encode("latin-1" if "ISO_IR 100" in "".join(hdr) else "utf-8") + b"\n")
        plain = os.path.join(tmp, "plain.dcm")
        subprocess.run(["dump2dcm", "-q", dump, plain], check=True)
        if compress == "jpegls":
            subprocess.run(["dcmcjpls", "-q", plain, path], check=True)
        elif compress == "rle":
            subprocess.run(["dcmcrle", "-q", plain, path], check=True)
        else:
            os.replace(plain, path)


# Patients: (id, name, charset, sex, birth, modality, photometric, view, compress, first date, [(day, grades)])
PATIENTS = [
    ("BRX-0001", "Rossi^Mario", "ISO_IR 100", "M", "19580312", "DX", "MONOCHROME2", "AP", "jpegls",
     [(0, dict(A=0, B=1, C=1, D=0, E=1, F=1)), (2, dict(A=1, B=2, C=2, D=1, E=2, F=2)),
      (4, dict(A=2, B=2, C=3, D=1, E=2, F=3)), (7, dict(A=2, B=3, C=3, D=2, E=3, F=3))]),
    ("BRX-0002", "Müller^Jürgen", "ISO_IR 100", "M", "19640923", "CR", "MONOCHROME1", "PA", "rle",
     [(0, dict(A=2, B=3, C=3, D=1, E=2, F=2)), (3, dict(A=1, B=2, C=2, D=1, E=2, F=2)),
      (6, dict(A=0, B=1, C=2, D=0, E=1, F=1))]),
    ("BRX-0003", "Ñáñez^Lucía", "ISO_IR 192", "F", "19711105", "DX", "MONOCHROME2", "PA", None,
     [(0, dict(A=0, B=0, C=1, D=0, E=1, F=1)), (1, dict(A=0, B=1, C=1, D=0, E=1, F=1)),
      (5, dict(A=0, B=0, C=1, D=0, E=0, F=1)), (9, dict(A=0, B=1, C=1, D=0, E=1, F=0))]),
]
BASE_DATE = (2026, 3, 2)


def date_plus(days):
    import datetime
    d = datetime.date(*BASE_DATE) + datetime.timedelta(days=days)
    return d.strftime("%Y%m%d")


def common_header(pid, name, cs, sex, birth, study_uid, date, time, accession, modality, series_uid, sop_uid,
                  sop_class, photometric, view, desc, mono1, series_desc):
    spacing_tag = "(0018,1164) DS [0.400\\0.400]" if modality == "CR" else "(0028,0030) DS [0.400\\0.400]"
    hdr = [
        f"(0008,0005) CS [{cs}]",
        "(0008,0008) CS [ORIGINAL\\PRIMARY]",
        f"(0008,0016) UI [{sop_class}]",
        f"(0008,0018) UI [{sop_uid}]",
        f"(0008,0020) DA [{date}]", f"(0008,0021) DA [{date}]", f"(0008,0022) DA [{date}]", f"(0008,0023) DA [{date}]",
        f"(0008,0030) TM [{time}]", f"(0008,0032) TM [{time}]",
        f"(0008,0050) SH [{accession}]",
        f"(0008,0060) CS [{modality}]",
        "(0008,0070) LO [Phantom Imaging Works]",
        "(0008,0080) LO [Brixia Sample Hospital]",
        "(0008,1030) LO [CHEST X-RAY]",
        f"(0008,103e) LO [{series_desc}]",
        f"(0010,0010) PN [{name}]", f"(0010,0020) LO [{pid}]", "(0010,0021) LO [BRIXIA-SAMPLES]",
        f"(0010,0030) DA [{birth}]", f"(0010,0040) CS [{sex}]",
        "(0018,0015) CS [CHEST]",
        spacing_tag,
        f"(0018,5101) CS [{view}]",
        f"(0020,000d) UI [{study_uid}]", f"(0020,000e) UI [{series_uid}]",
        f"(0020,0010) SH [{accession}]", "(0020,0011) IS [1]", "(0020,0013) IS [1]",
        f"(0028,0004) CS [{photometric}]",
        "(0028,1050) DS [2048]", "(0028,1051) DS [3800]",
        "(0028,1052) DS [0]", "(0028,1053) DS [1]", "(0028,1054) LO [US]",
    ]
    if modality == "DX":
        hdr += ["(0008,0068) CS [FOR PRESENTATION]",
                f"(2050,0020) CS [{'INVERSE' if mono1 else 'IDENTITY'}]"]
    return hdr


def main():
    out = os.path.join(HERE, "studies")
    rej = os.path.join(HERE, "rejects")
    os.makedirs(out, exist_ok=True)
    os.makedirs(rej, exist_ok=True)
    manifest = ["path\tpatientID\tstudyDate\tmodality\tphotometric\tcompression\teligible\treason\tgrades(A-F)\tglobal"]
    for pi, (pid, name, cs, sex, birth, modality, photometric, view, compress, exams) in enumerate(PATIENTS):
        pdir = os.path.join(out, pid)
        os.makedirs(pdir, exist_ok=True)
        mono1 = photometric == "MONOCHROME1"
        sop_class = "1.2.840.10008.5.1.4.1.1.1" if modality == "CR" else "1.2.840.10008.5.1.4.1.1.1.1"
        for ei, (day, grades) in enumerate(exams):
            date = date_plus(day + 3 * pi)
            time = f"{8 + ei:02d}{(17 * ei) % 60:02d}00"
            acc = f"A{pi + 1}{ei + 1:03d}"
            study_uid = uid(pid, "study", ei)
            att = frontal_phantom(grades, seed=1000 * pi + ei)
            px = to_stored(att, mono1)
            hdr = common_header(pid, name, cs, sex, birth, study_uid, date, time, acc, modality,
                                uid(pid, "series", ei), uid(pid, "sop", ei), sop_class, photometric, view,
                                "CHEST X-RAY", mono1, f"Chest {view}")
            # one uncompressed exam per uncompressed patient, compress the rest as configured
            comp = compress if compress else ("jpegls" if ei % 2 else None)
            fname = f"{date}_{modality}_{view}.dcm"
            write_dicom(os.path.join(pdir, fname), px, hdr, comp)
            zs = "".join(str(grades[z]) for z in "ABCDEF")
            manifest.append(f"studies/{pid}/{fname}\t{pid}\t{date}\t{modality}\t{photometric}\t{comp or 'none'}\t"
                            f"yes\tfrontal\t{zs}\t{sum(grades.values())}")
    # a lateral view in the last study of patient 1 (must be rejected)
    pid, name, cs, sex, birth = PATIENTS[0][:5]
    ei = len(PATIENTS[0][9]) - 1
    date = date_plus(PATIENTS[0][9][-1][0])
    hdr = common_header(pid, name, cs, sex, birth, uid(pid, "study", ei), date, "091500", f"A1{ei + 1:03d}", "DX",
                        uid(pid, "series-lat", ei), uid(pid, "sop-lat", ei), "1.2.840.10008.5.1.4.1.1.1.1",
                        "MONOCHROME2", "LL", "CHEST X-RAY", False, "Chest LAT")
    write_dicom(os.path.join(rej, "lateral_LL.dcm"), to_stored(lateral_phantom(7), False), hdr, "jpegls")
    manifest.append(f"rejects/lateral_LL.dcm\t{pid}\t{date}\tDX\tMONOCHROME2\tjpegls\tno\tlateral\t-\t-")
    # a non-image file that arrived in the inbox (must be quarantined)
    with open(os.path.join(rej, "not_dicom.dcm"), "w") as f:
        f.write("This is a text file with a .dcm name: the inbox must quarantine it, not crash.\n")
    manifest.append("rejects/not_dicom.dcm\t-\t-\t-\t-\t-\terror\tnot DICOM\t-\t-")
    with open(os.path.join(HERE, "MANIFEST.tsv"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    total = sum(os.path.getsize(os.path.join(d, x)) for d, _, fs in os.walk(HERE) for x in fs)
    print(f"Samples/: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    sys.exit(main())
