"""`faultline report` rendered in headless Chromium (Debian's chromium) with the network blocked.

The page must draw every chart offline: each of its canvases carries data-rendered="1" and the
number of coloured pixels Chart.js painted (the page's own marker), the body counts the charts,
the page refers to no http(s) resource, and a screenshot is not blank. Bad series files exit 2
with FILE:LINE. With --record (a replay of a known profile made here with --series and --record)
the page draws the record's charts too; a record alone draws its own two. Chromium runs in its own session under a timeout, with a temporary profile, and is
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
RECORD_CHARTS = ['chart-cdf', 'chart-record-drops']
# Rule lossy (UDP port 5000): loss 10%, duplicate 10%, 2 ms; rule slow (5001): 3 ms +- 1 ms.
PROFILE = """version: 1
impairments:
  lossy: {delay: {base: 2ms}, loss: {probability: 10%}, duplicate: {probability: 10%}}
  slow: {delay: {base: 3ms, jitter: 1ms, distribution: normal}}
rules:
  - {name: lossy, match: {proto: udp, dst-port: 5000}, impairment: lossy}
  - {name: slow, match: {proto: udp, dst-port: 5001}, impairment: slow}
"""


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


def write_udp_pcap(path, count, gap_us=1000):
    """A classic pcap of `count` UDP frames, alternately to ports 5000 and 5001, 8 flows."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(count):
            payload = b'x' * 18
            udp = struct.pack('>HHHH', 40000 + i % 8, 5000 + i % 2, 8 + len(payload), 0) + payload
            ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                             bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp
            frame = b'\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00' + ip
            t = 1700000000 * 1000000 + i * gap_us
            f.write(struct.pack('<IIII', t // 1000000, t % 1000000, len(frame), len(frame)) + frame)


def run_report(args, tmp, name):
    page = os.path.join(tmp, name)
    result = subprocess.run([FAULTLINE, 'report'] + args + ['--out', page],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return page


@pytest.fixture(scope='module')
def replayed(tmp_path_factory):
    """(tmp, series, record) of a 6 s replay of the profile above."""
    tmp = str(tmp_path_factory.mktemp('replayed'))
    pcap, profile = os.path.join(tmp, 'in.pcap'), os.path.join(tmp, 'p.yaml')
    series, record = os.path.join(tmp, 's.jsonl'), os.path.join(tmp, 'r.rec')
    write_udp_pcap(pcap, 6000)
    with open(profile, 'w') as f:
        f.write(PROFILE)
    result = subprocess.run([FAULTLINE, 'replay', '--in', pcap, '--out',
                             os.path.join(tmp, 'out.pcap'), '--profile', profile, '--seed', '7',
                             '--series', series, '--record', record],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return tmp, series, record


def check_charts(dom, drawn, hidden, empty=()):
    """Every chart in `drawn` drew, in colour unless in `empty`; those in `hidden` did not."""
    assert re.search(r'<body[^>]*data-charts-rendered="%d"' % len(drawn), dom), dom[:2000]
    canvases = re.findall(r'<canvas[^>]*>', dom)
    for chart in drawn:
        tag = next(c for c in canvases if 'id="%s"' % chart in c)
        assert 'data-rendered="1"' in tag, tag
        coloured = int(re.search(r'data-coloured-pixels="(\d+)"', tag).group(1))
        assert chart in empty or coloured > 500, (chart, coloured)
    for chart in hidden:
        tag = next(c for c in canvases if 'id="%s"' % chart in c)
        assert 'data-rendered' not in tag, tag


def test_series_and_record_draw_every_chart(replayed):
    tmp, series, record = replayed
    page = run_report(['--series', series, '--record', record], tmp, 'both.html')
    dom = chromium(['--dump-dom', 'file://' + page], tmp)
    # A replay without a trace has no fault events: its timeline draws only axes.
    check_charts(dom, CHARTS + ['chart-record-drops'], [], empty=['chart-timeline'])
    assert 'from the frame record (exact to 0.05%' in dom
    # The record's table (rule, direction, in, ...) and its agreement with the series.
    assert re.search(r'<td>lossy</td><td>a-to-b</td><td class="number">3000</td>', dom), dom
    assert re.search(r'<td>slow</td><td>a-to-b</td><td class="number">3000</td>', dom)
    assert '<td>DIFFERS</td>' not in dom
    assert dom.count('<td>yes</td>') == 3


def test_record_alone_draws_its_charts(replayed):
    tmp, _, record = replayed
    page = run_report(['--record', record], tmp, 'record.html')
    dom = chromium(['--dump-dom', 'file://' + page], tmp)
    check_charts(dom, RECORD_CHARTS, ['chart-frames', 'chart-residence', 'chart-timeline'])


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
    assert len(canvases) == len(CHARTS) + 1  # and the record's drops, not drawn without --record
    assert 'data-rendered' not in next(c for c in canvases if 'chart-record-drops' in c)
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
