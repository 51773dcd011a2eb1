#!/bin/sh
# Peak memory of `brixia inspect` and `brixia run --once` on crafted header bombs (issue #13; docs/performance.md,
# "Header bombs"). Goal: <= 1.5 GB peak RSS on any single input. Needs python3 and GNU time (/usr/bin/time).
# Usage: scripts/bench-header-bombs.sh [BRIXIA_BINARY]   (default: a release build of this checkout)
set -eu
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then BIN=$1; else
    swift build -c release --product brixia >/dev/null
    BIN="$(swift build -c release --show-bin-path)/brixia"
fi
WORK=$(mktemp -d /tmp/brixia-bombs.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/files"

python3 - "$WORK/files" <<'PY'
import os, struct, sys, zlib
out = sys.argv[1]
LONG = {b'OB', b'OW', b'UN', b'SQ', b'UT'}
def el(g, e, vr, val, length=None):
    vr = vr.encode(); n = len(val) if length is None else length
    if vr in LONG: return struct.pack('<HH', g, e) + vr + b'\0\0' + struct.pack('<I', n) + val
    return struct.pack('<HH', g, e) + vr + struct.pack('<H', n) + val
def s(v, pad=b' '):
    v = v.encode(); return v + (pad if len(v) % 2 else b'')
def meta(ts='1.2.840.10008.1.2.1'):
    body = el(2, 1, 'OB', b'\0\1') + el(2, 2, 'UI', s('1.2.840.10008.5.1.4.1.1.1.1', b'\0')) + \
           el(2, 3, 'UI', s('2.25.9', b'\0')) + el(2, 0x10, 'UI', s(ts, b'\0'))
    return b'\0' * 128 + b'DICM' + el(2, 0, 'UL', struct.pack('<I', len(body))) + body
def header(rows, cols, frames=None, sop='2.25.9'):
    h = el(8, 0x16, 'UI', s('1.2.840.10008.5.1.4.1.1.1.1', b'\0')) + el(8, 0x18, 'UI', s(sop, b'\0'))
    h += el(8, 0x60, 'CS', s('DX')) + el(0x10, 0x10, 'PN', s('BOMB^TEST')) + el(0x10, 0x20, 'LO', s('BOMB-1'))
    h += el(0x18, 0x5101, 'CS', s('PA')) + el(0x20, 0x0D, 'UI', s('2.25.19', b'\0')) + el(0x20, 0x0E, 'UI', s('2.25.29', b'\0'))
    h += el(0x28, 2, 'US', struct.pack('<H', 1)) + el(0x28, 4, 'CS', s('MONOCHROME2'))
    if frames is not None: h += el(0x28, 8, 'IS', s(str(frames)))
    h += el(0x28, 0x10, 'US', struct.pack('<H', rows)) + el(0x28, 0x11, 'US', struct.pack('<H', cols))
    h += el(0x28, 0x100, 'US', struct.pack('<H', 16)) + el(0x28, 0x101, 'US', struct.pack('<H', 12))
    h += el(0x28, 0x102, 'US', struct.pack('<H', 11)) + el(0x28, 0x103, 'US', struct.pack('<H', 0))
    return h
def write(name, data): open(os.path.join(out, name), 'wb').write(data)
px = b'\x10\x00' * 512
# 1. 65535 x 65535 16-bit declared, 1 KiB of pixel data (the reproduced 1.3 KB file)
write('01-65535x65535.dcm', meta() + header(65535, 65535) + el(0x7FE0, 0x10, 'OW', px))
# 2. 2^31-1 frames of 4096 x 4096
write('02-frames.dcm', meta() + header(4096, 4096, 2147483647) + el(0x7FE0, 0x10, 'OW', px))
# 3. a private element declaring 4 GiB in a tiny file
write('03-element-length.dcm', meta() + header(256, 256) + el(0x0011, 0x1010, 'OB', b'\1' * 100, 0xFFFFFFF0))
# 4. Pixel Data declaring 4 GiB, 1 KiB present
write('04-pixel-length.dcm', meta() + header(4096, 4096) + el(0x7FE0, 0x10, 'OW', px, 0xFFFFFFF0))
# 5. a 2 GiB file (sparse): refused by size before it is read
with open(os.path.join(out, '05-huge-file.dcm'), 'wb') as f:
    f.write(meta() + header(256, 256) + el(0x0011, 0x1010, 'OB', b'', (2 << 30) - 2))
    f.seek((2 << 30) - 3, 1); f.write(b'\0\0')
    f.write(el(0x7FE0, 0x10, 'OW', b'\x10\x00' * 65536))
# 6. the largest image the default limits accept: 7071 x 7071 16-bit (50.0 Mpx, 100 MB), really present
n = 7071
with open(os.path.join(out, '06-largest-accepted-7071x7071.dcm'), 'wb') as f:
    f.write(meta() + header(n, n) + struct.pack('<HH', 0x7FE0, 0x10) + b'OW\0\0' + struct.pack('<I', n * n * 2))
    row = bytes(b for x in range(n) for b in struct.pack('<H', (x * 4095) // n))
    for _ in range(n): f.write(row)
# 7. deflate bomb: Deflated Explicit VR LE, 1 GiB of zeros in a private element compressed to about 1 MB
with open(os.path.join(out, '07-deflate-1GiB.dcm'), 'wb') as f:
    f.write(meta('1.2.840.10008.1.2.1.99'))
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    f.write(z.compress(header(256, 256) + el(0x0011, 0x1010, 'OB', b'', 1 << 30)))
    zero = b'\0' * (1 << 24)
    for _ in range(64): f.write(z.compress(zero))
    f.write(z.compress(el(0x7FE0, 0x10, 'OW', b'\x10\x00' * 65536)))
    f.write(z.flush())
PY

rss() {   # peak RSS in MiB of "$@", plus its exit status
    /usr/bin/time -v "$@" >"$WORK/out.txt" 2>"$WORK/time.txt" && rc=0 || rc=$?
    kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
    echo "$((kb / 1024)) MiB (exit $rc)"
}

printf '%-36s %10s %-22s %-22s %s\n' file size "inspect peak RSS" "run --once peak RSS" "run --once result"
for f in "$WORK"/files/*.dcm; do
    name=$(basename "$f")
    size=$(du -h --apparent-size "$f" | cut -f1)
    ins=$(rss "$BIN" inspect "$f")
    reason=$(grep -o '"error" *: *"[^"]*"' "$WORK/out.txt" | head -1 | cut -c1-140 || true)
    w="$WORK/run-$name"
    mkdir -p "$w/inbox" "$w/outbox" "$w/archive" "$w/quarantine"
    cp --sparse=always "$f" "$w/inbox/"
    run=$(rss "$BIN" run --once --inbox "$w/inbox" --outbox "$w/outbox" --archive "$w/archive" \
          --quarantine "$w/quarantine" --db "$w/brixia.sqlite" --log-level error)
    if [ -f "$w/quarantine/$name.reason.txt" ]; then result="quarantined: $(sed -n 's/^reason: //p' "$w/quarantine/$name.reason.txt")"
    elif [ -n "$(ls "$w/outbox")" ]; then result="scored, reports written"
    else result="other (see $w)"; fi
    printf '%-36s %10s %-22s %-22s %s\n' "$name" "$size" "$ins" "$run" "$result"
    [ -n "$reason" ] && printf '%-36s inspect: %s\n' "" "$reason"
    rm -rf "$w"
done
