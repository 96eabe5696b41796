"""`faultline report` rendered in headless Chromium (Debian's chromium) with the network blocked.

The page must draw every chart offline: each of its canvases carries data-rendered="1" and the
number of coloured pixels Chart.js painted (the page's own marker), the body counts the charts,
the page refers to no http(s) resource, and a screenshot is not blank. Bad series files exit 2
with FILE:LINE. Chromium runs in its own session under a timeout, with a temporary profile, and is
killed by its process group if it hangs.
"""
import os
import re
import signal
import struct
import subprocess
import tempfile
import zlib

import pytest

FAULTLINE = os.environ['FAULTLINE_BIN']
FIXTURE = os.path.join(os.environ['FAULTLINE_SOURCE_ROOT'], 'tests/data/report/series.jsonl')
CHARTS = ['chart-frames', 'chart-residence', 'chart-timeline', 'chart-cdf']


def chromium(args, tmp):
    """Runs chromium headless on the page; its stdout. No network: every host name fails."""
    command = ['chromium', '--headless=new', '--disable-gpu', '--no-sandbox',
               '--user-data-dir=' + os.path.join(tmp, 'profile'),
               '--host-resolver-rules=MAP * ~NOTFOUND', '--no-first-run',
               '--window-size=1200,2200'] + args
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, command
    return out.decode()


def decode_png(data):
    """(width, height, bytes per pixel, rows) of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    pos, idat = 8, b''
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, colour = struct.unpack('>IIBB', body[:10])
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    prev, rows = bytearray(stride), []
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp('report'))
    page = os.path.join(tmp, 'report.html')
    result = subprocess.run([FAULTLINE, 'report', '--series', FIXTURE, '--out', page],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return tmp, page


def test_page_refers_to_no_network_resource(report):
    _, page = report
    text = open(page, encoding='utf-8').read()
    assert re.search(r'(src|href)\s*=\s*["\']?\s*(https?:)?//', text, re.I) is None
    assert re.search(r'url\(\s*["\']?(https?:)?//', text, re.I) is None
    assert re.search(r'\bimport\s*\(|\bfetch\s*\(|XMLHttpRequest', text) is None
    assert 'Chart.js v3' in text  # inlined from libjs-chart.js


def test_every_chart_drew_offline(report):
    tmp, page = report
    dom = chromium(['--dump-dom', 'file://' + page], tmp)
    assert re.search(r'<body[^>]*data-charts-rendered="4"', dom), dom[:2000]
    canvases = re.findall(r'<canvas[^>]*>', dom)
    assert len(canvases) == len(CHARTS)
    for chart in CHARTS:
        tag = next(c for c in canvases if 'id="%s"' % chart in c)
        assert 'data-rendered="1"' in tag, tag
        coloured = int(re.search(r'data-coloured-pixels="(\d+)"', tag).group(1))
        assert coloured > 500, (chart, coloured)  # lines, bars and bands in colour, not only axes
    # The summary table from the series: 9900 delivered frames, 2100 dropped by the partition.
    assert re.search(r'delivered frames</td><td[^>]*>9900<', dom)
    assert re.search(r'dropped: partition</td><td[^>]*>2100<', dom)


def test_screenshot_is_not_blank(report):
    tmp, page = report
    shot = os.path.join(tmp, 'report.png')
    # Half scale: the whole page in a 600 x 1100 image, quick to decode in pure Python.
    chromium(['--force-device-scale-factor=0.5', '--screenshot=' + shot, 'file://' + page], tmp)
    width, height, bpp, rows = decode_png(open(shot, 'rb').read())
    colours, non_white = set(), 0
    for row in rows:
        for x in range(0, width * bpp, bpp):
            pixel = row[x:x + 3]
            colours.add(pixel)
            non_white += pixel != b'\xff\xff\xff'
    assert len(colours) > 50, len(colours)
    assert non_white > width * height // 50, (non_white, width * height)


@pytest.mark.parametrize('text,message', [
    ('{"type":"header"', 'bad.jsonl:1: not JSON'),
    ('{"type":"interval","t_ns":1}', 'bad.jsonl:1: the first line must be the header'),
    ('{"type":"header","version":1,"source":"run","start_ns":"soon","interval_ns":1}',
     'bad.jsonl:1: "start_ns" must be a non-negative integer'),
])
def test_bad_series_is_a_clear_error(text, message):
    with tempfile.TemporaryDirectory() as tmp:
        series, page = os.path.join(tmp, 'bad.jsonl'), os.path.join(tmp, 'out.html')
        with open(series, 'w') as f:
            f.write(text + '\n')
        result = subprocess.run([FAULTLINE, 'report', '--series', series, '--out', page],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert message in result.stderr, result.stderr
        assert not os.path.exists(page)
