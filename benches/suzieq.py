"""SuzieQ 0.25 beside Sonde: the same questions over the same history.

Converts the bgp and interfaces event files of a Sonde store into a SuzieQ Parquet store laid
out as SuzieQ's poller writes it, runs SuzieQ's coalescer over it once (a deployment runs it
every hour), then answers four questions with SuzieQ's own Python API, each `runs` times in
this process, and prints one JSON object as the last line of stdout:

    {"load_s": ..., "coalesce_s": ..., "rows": {"bgp": n, "interfaces": n},
     "questions": {"show bgp": {"p50": ms, "p95": ms, "result": "..."}, "assert bgp": ...,
                   "show bgp around 10h": ..., "show interfaces": ...}}

SuzieQ pins pandas 1.5 and pyarrow 14, so it lives in a virtualenv of its own:

    python3 -m venv <venv> && <venv>/bin/pip install suzieq==0.25.0
    <venv>/bin/python benches/suzieq.py <sonde-store> <now-µs> <runs> <scratch-dir>

<scratch-dir> gets suzieq-cfg.yml and the store, parquet/, which is replaced on every run.
SUZIEQ_POLL_PERIOD_S (default 60, the poller's default period) sets how the rows are split
into files: one file per host and table for each poll that saw a change, as the poller
writes them. The coalescer only folds hours that ended before the wall clock's now.
"""

import glob
import json
import logging
import os
import re
import shutil
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# This file is named suzieq.py, so its own folder must not shadow the suzieq package.
sys.path = [p for p in sys.path if os.path.abspath(p or '.') != os.path.dirname(os.path.abspath(__file__))]

NAMESPACE = 'sonde'
POLL_PERIOD_MS = int(os.environ.get('SUZIEQ_POLL_PERIOD_S', '60')) * 1000
HOUR_US = 3_600_000_000
# Event files are <table>/date=…/hour=…/f<segment>.parquet (flushed) or c<id>.parquet
# (compacted); checkpoints sit under checkpoints/ and hold derived state, not events.
EVENT_FILE = re.compile(r'[fc]\d+\.parquet')
TIME_COLUMNS = ('timestamp', 'established_at', 'last_flap')


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def read_events(store, table, columns, until_us):
    """A table's event log up to `until_us` as a DataFrame: times as int ms, absent columns as
    nulls. Later events cannot change an answer at `until_us` and would only slow the load."""
    files = [p for p in sorted(glob.glob(os.path.join(store, table, 'date=*', 'hour=*', '*.parquet')))
             if EVENT_FILE.fullmatch(os.path.basename(p)) and file_hour_us(p) <= until_us]
    if not files:
        return pd.DataFrame(columns=columns)
    t = pa.concat_tables([pq.read_table(f) for f in files], promote_options='default')
    until = pa.scalar(until_us, pa.timestamp('us', tz='UTC'))
    t = t.filter(pc.less_equal(t['timestamp'], pc.cast(until, t['timestamp'].type)))
    out = {}
    for name in columns:
        if name not in t.column_names:
            out[name] = pa.nulls(t.num_rows)
        elif name in TIME_COLUMNS:
            # Rounded up, so `timestamp <= T` picks the same rows in ms as in µs for any whole-ms T.
            out[name] = pc.divide(pc.add(pc.cast(t[name], pa.int64()), 999), 1000)
        else:
            out[name] = t[name]
    return pa.table(out).to_pandas()


def file_hour_us(path):
    """The start of the hour an event file's partition names (…/date=YYYY-MM-DD/hour=HH/…)."""
    hour, date = os.path.basename(os.path.dirname(path)), os.path.basename(os.path.dirname(os.path.dirname(path)))
    start = datetime.strptime(f"{date.split('=')[1]} {hour.split('=')[1]}", '%Y-%m-%d %H').replace(tzinfo=timezone.utc)
    return int(start.timestamp()) * 1_000_000


def ints(s):
    return s.fillna(0).to_numpy(np.int64)


def strs(s, default=''):
    return s.fillna(default).to_numpy(object)


def family(name):
    """(afi, safi) of an address family as FRR names it (ipv4Unicast, l2VpnEvpn, also
    ipv4-unicast), the way SuzieQ's FRR/Cumulus parser splits it."""
    n = re.sub(r'[-_ ]', '', name).lower()
    if 'evpn' in n:
        return 'l2vpn', 'evpn'
    for afi in ('ipv4', 'ipv6'):
        if n.startswith(afi):
            rest = n[len(afi):]
            return (f'vpnv{afi[-1]}', 'unicast') if 'vpn' in rest else (afi, rest or 'unicast')
    return n, ''


def family_keys(afi_safi):
    """'afi/safi,afi/safi' for an afi_safi value; an Established session with none listed
    still carries IPv4 unicast, which FRR always reports."""
    names = [x for x in (afi_safi or '').split(',') if x.strip()] or ['ipv4Unicast']
    return ','.join(dict.fromkeys('/'.join(family(x.strip())) for x in names))


def bgp_rows(ev):
    """Sonde bgp events → SuzieQ bgp records (schema 3.0).

    SuzieQ keys a session by (vrf, peer, afi, safi): its FRR parser gives an Established
    session one record per address family and a session in any other state one record with
    empty afi/safi and state NotEstd. When the set of keys changes, the poller writes the
    records that vanished again with active=False; that is done here too, so the state of
    any instant reads the same as the poller would have left it.
    """
    if ev.empty:
        return {'hostname': np.array([], object), 'timestamp': np.array([], np.int64)}
    ev = ev.sort_values(['hostname', 'vrf', 'peer', 'timestamp'], kind='stable', ignore_index=True)
    n = len(ev)
    session = ev[['hostname', 'vrf', 'peer']]
    first = (session != session.shift()).any(axis=1).to_numpy()
    up = ev['state'].eq('Established').to_numpy()
    active = ev['active'].to_numpy(bool)

    fams = ev['afi_safi'].fillna('')
    fam_keys = fams.map({v: family_keys(v) for v in fams.unique()}).to_numpy(object)
    keys = np.where(~active, '', np.where(up, fam_keys, '/'))
    prev_keys = np.roll(keys, 1)
    prev_keys[first] = ''

    # numChanges: FRR's connectionsEstablished + connectionsDropped, counted from the first event.
    flips = ~first & (up != np.roll(up, 1))
    changes = np.cumsum(flips)
    starts = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    num_changes = changes - changes[starts]

    added = pd.Series(keys).map({k: k.split(',') if k else [] for k in set(keys)}).explode().dropna()
    src = [added.index.to_numpy(np.int64)]
    key = [added.to_numpy(object)]
    ts = ev['timestamp'].to_numpy(np.int64)
    at = [ts[src[0]]]
    act = [np.ones(len(added), bool)]
    gone_src, gone_key, gone_at = [], [], []
    for i in np.flatnonzero((prev_keys != keys) & (prev_keys != '')):
        now = set(keys[i].split(',')) if keys[i] else set()
        for k in prev_keys[i].split(','):
            if k not in now:
                gone_src.append(i - 1)
                gone_key.append(k)
                gone_at.append(ts[i])
    src.append(np.array(gone_src, np.int64))
    key.append(np.array(gone_key, object))
    at.append(np.array(gone_at, np.int64))
    act.append(np.zeros(len(gone_src), bool))
    src, key, at, act = (np.concatenate(x) for x in (src, key, at, act))

    afi_safi = pd.Series(key).str.split('/', n=1, expand=True)
    afi, safi = afi_safi[0].to_numpy(object), afi_safi[1].to_numpy(object)
    estd = up[src]
    peer_host = strs(ev['peer_hostname'])[src]
    hostname = strs(ev['hostname'])[src]
    vrf = strs(ev['vrf'])[src]
    # FRR gives no session addresses here; SuzieQ pairs the two ends of a session by
    # peerIP == updateSource, so stand in a token per (host, peer host) that pairs the same way.
    update_source = hostname + '|' + vrf + '|' + np.where(peer_host != '', peer_host, strs(ev['peer'])[src])
    peer_ip = np.where(peer_host != '', peer_host + '|' + vrf + '|' + hostname, '')
    pfx = np.select([afi == 'ipv4', afi == 'ipv6', safi == 'evpn'],
                    [ints(ev['pfx_rx_ipv4'])[src], ints(ev['pfx_rx_ipv6'])[src], ints(ev['pfx_rx_evpn'])[src]], 0)
    return {
        'hostname': hostname,
        'timestamp': at,
        'active': act,
        'vrf': vrf,
        'peer': strs(ev['peer'])[src],
        'afi': afi,
        'safi': safi,
        'state': np.where(estd, 'Established', 'NotEstd'),
        'pfxRx': pfx,
        'asn': ints(ev['asn'])[src],
        'peerAsn': ints(ev['peer_asn'])[src],
        'routerId': strs(ev['router_id'])[src],
        'peerRouterId': strs(ev['peer_router_id'], '0.0.0.0')[src],
        # FRR reports the peer's hostname capability only while the session is Established.
        'peerHostname': np.where(estd, peer_host, ''),
        'ifname': strs(ev['ifname'])[src],
        'holdTime': ints(ev['hold_time'])[src],
        'keepaliveTime': ints(ev['keepalive'])[src],
        'estdTime': ints(ev['established_at'])[src].astype(np.float64),
        'reason': strs(ev['last_reset_reason'])[src],
        'notificnReason': strs(ev['last_notification'])[src],
        'numChanges': num_changes[src],
        'bfdStatus': np.full(len(src), 'disabled', object),
        'rrclient': np.where(afi != '', 'False', ''),
        'updateSource': update_source,
        'peerIP': peer_ip,
    }


INTERFACE_TYPES = {'swp': 'ethernet', 'eth': 'ethernet', 'ether': 'ethernet'}


def interfaces_rows(ev):
    """Sonde interfaces events → SuzieQ interfaces records (schema 4.0), one for one."""
    n = len(ev)
    state = ev['state'].fillna('').str.lower().to_numpy(object)
    # A null admin state is taken as up: FRR always reports one, and SuzieQ's bgp assert
    # would otherwise blame every down session on an admin-down interface.
    admin = ev['admin_state'].fillna('up').str.lower().to_numpy(object)
    typ = ev['type'].fillna('')
    vrf = strs(ev['vrf'])
    master = pd.Series(np.where(strs(ev['master']) != '', strs(ev['master']),
                                np.where(vrf != 'default', vrf, ''))).str.lower()

    ev_sorted = ev[['hostname', 'ifname']].assign(state=state, ts=ev['timestamp']) \
        .sort_values(['hostname', 'ifname', 'ts'], kind='stable')
    key = ev_sorted[['hostname', 'ifname']]
    first = (key != key.shift()).any(axis=1).to_numpy()
    flips = ~first & (ev_sorted['state'].to_numpy(object) != np.roll(ev_sorted['state'].to_numpy(object), 1))
    changes = np.cumsum(flips)
    starts = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    num_changes = np.empty(n, np.int64)
    num_changes[ev_sorted.index.to_numpy()] = changes - changes[starts]

    return {
        'hostname': strs(ev['hostname']),
        'timestamp': ev['timestamp'].to_numpy(np.int64),
        'active': ev['active'].to_numpy(bool),
        'ifname': strs(ev['ifname']),
        # SuzieQ's Cumulus parser reports an admin-down interface as down.
        'state': np.where(admin == 'down', 'down', state),
        'adminState': admin,
        'type': typ.map(lambda t: INTERFACE_TYPES.get(t, t)).to_numpy(object),
        'mtu': ints(ev['mtu']),
        'speed': ints(ev['speed']),
        'macaddr': strs(ev['mac']),
        'interfaceMac': strs(ev['mac']),
        'master': master.to_numpy(object),
        'description': strs(ev['description']),
        'ifindex': ints(ev['ifindex']),
        'vlan': ints(ev['pvid']).astype(np.int32),
        'statusChangeTimestamp': ints(ev['last_flap']).astype(np.float64),
        'numChanges': num_changes,
    }


def default_array(ty, n):
    """What SuzieQ's writer fills a missing column with (suzieq.shared.utils.get_default_per_vals)."""
    if pa.types.is_list(ty):
        return pa.repeat(pa.scalar([], ty), n)
    if pa.types.is_string(ty):
        return pa.repeat('', n)
    if pa.types.is_boolean(ty):
        return pa.repeat(False, n)
    return pa.repeat(pa.scalar(0, ty), n)


def write_like_poller(data_dir, table, schema, cols):
    """Writes records as the poller's Parquet writer does: under
    <table>/sqvers=<v>/namespace=<ns>/hostname=<host>/, one <guid>-0.parquet per host and poll
    (ZSTD, format 2.4, without the partition columns)."""
    n = len(cols['timestamp'])
    if n == 0:
        return 0
    order = np.lexsort((cols['timestamp'], cols['hostname']))
    host = cols['hostname'][order]
    fields = [f for f in schema.get_arrow_schema() if f.name not in ('sqvers', 'namespace', 'hostname')]
    body = pa.table([pa.array(cols[f.name][order], f.type) if f.name in cols else default_array(f.type, n)
                     for f in fields], schema=pa.schema(fields))
    poll = cols['timestamp'][order] // POLL_PERIOD_MS
    cut = np.flatnonzero((host[1:] != host[:-1]) | (poll[1:] != poll[:-1])) + 1
    base = os.path.join(data_dir, table, f'sqvers={schema.version}', f'namespace={NAMESPACE}')
    for h in np.unique(host):
        os.makedirs(os.path.join(base, f'hostname={h}'), exist_ok=True)

    def write(span):
        start, end = span
        path = os.path.join(base, f'hostname={host[start]}', f'{uuid.uuid4().hex}-0.parquet')
        pq.write_table(body.slice(start, end - start), path, version='2.4', compression='ZSTD',
                       row_group_size=100000)

    # Thousands of small files: Parquet's C++ writer releases the GIL, so threads pay.
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(write, zip(np.r_[0, cut], np.r_[cut, n])))
    return len(cut) + 1


def write_config(scratch):
    data_dir = os.path.join(scratch, 'parquet')
    path = os.path.join(scratch, 'suzieq-cfg.yml')
    with open(path, 'w') as f:
        f.write(f'data-directory: {data_dir}\n'
                f'temp-directory: {os.path.join(scratch, "tmp")}\n'
                'coalescer:\n'
                '  period: 1h\n'
                '  archive-directory:\n'  # as shipped: no tarballs of the coalesced files
                '  logging-level: WARNING\n'
                'analyzer:\n'
                '  timezone: UTC\n')
    return path, data_dir


def percentile(times, p):
    times = sorted(times)
    return times[min(len(times) - 1, round((len(times) - 1) * p))]


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    store, now_us, runs, scratch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), os.path.abspath(sys.argv[4])

    from suzieq.shared.schema import Schema, SchemaForTable
    from suzieq.shared.utils import load_sq_config
    from suzieq.sqobjects import get_sqobject
    from suzieq.utilities.sq_coalescer import run_coalescer

    os.makedirs(scratch, exist_ok=True)
    cfg_file, data_dir = write_config(scratch)
    shutil.rmtree(data_dir, ignore_errors=True)
    cfg = load_sq_config(config_file=cfg_file)
    schemas = Schema(cfg['schema-directory'])
    if now_us // 1000 > time.time() * 1000:
        log('suzieq: now is after the wall clock; the coalescer leaves hours after the wall clock alone')

    start = time.perf_counter()
    rows = {}
    bgp = read_events(store, 'bgp', ['timestamp', 'hostname', 'vrf', 'peer', 'peer_hostname', 'ifname', 'asn',
                                     'peer_asn', 'router_id', 'peer_router_id', 'state', 'hold_time', 'keepalive',
                                     'afi_safi', 'pfx_rx_ipv4', 'pfx_rx_ipv6', 'pfx_rx_evpn', 'established_at',
                                     'last_reset_reason', 'last_notification', 'active'], now_us)
    interfaces = read_events(store, 'interfaces', ['timestamp', 'hostname', 'ifname', 'type', 'state',
                                                   'admin_state', 'mtu', 'speed', 'mac', 'master', 'vrf', 'pvid',
                                                   'ifindex', 'description', 'last_flap', 'active'], now_us)
    for table, events, convert in (('bgp', bgp, bgp_rows), ('interfaces', interfaces, interfaces_rows)):
        if events.empty:
            rows[table] = 0
            continue
        records = convert(events)
        files = write_like_poller(data_dir, table, SchemaForTable(table, schemas), records)
        rows[table] = len(records['timestamp'])
        log(f'suzieq: {table}: {rows[table]} records in {files} files')
    load_s = time.perf_counter() - start

    logger = logging.getLogger('suzieq.coalescer')
    logger.addHandler(logging.StreamHandler(sys.stderr))
    logger.setLevel(logging.WARNING)
    start = time.perf_counter()
    # What `sq-coalescer --run-once --no-sqpoller` does: there is no sqPoller table to
    # check polling gaps against, since no poller ran.
    run_coalescer(cfg, [], '1h', True, logger, no_sqpoller=True)
    coalesce_s = time.perf_counter() - start
    if not glob.glob(os.path.join(data_dir, 'coalesced', 'bgp', '*', '*', '*.parquet')):
        log('suzieq: the coalescer wrote nothing for bgp')
        coalesce_s = None

    def at(us):
        return (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=us)).isoformat()

    def ask(table, verb, when):
        obj = get_sqobject(table)(config_file=cfg_file, namespace=[NAMESPACE], end_time=at(when))
        df = obj.aver() if verb == 'assert' else obj.get()
        if 'error' in df.columns:
            raise RuntimeError(f'suzieq {table} {verb}: {df.error.iloc[0]}')
        return df

    def shown(df):
        sessions = len(df[['hostname', 'vrf', 'peer']].drop_duplicates()) if 'peer' in df.columns else len(df)
        return f'{len(df)} rows' + (f' ({sessions} sessions)' if sessions != len(df) else '')

    def asserted(df):
        sessions = df[['hostname', 'vrf', 'peer']].drop_duplicates()
        failed = df[df.result == 'fail'][['hostname', 'vrf', 'peer']].drop_duplicates()
        return f'{len(sessions)} checked, {len(failed)} failed'

    questions = {
        'show bgp': ('bgp', 'show', now_us, shown),
        'assert bgp': ('bgp', 'assert', now_us, asserted),
        'show bgp around 10h': ('bgp', 'show', now_us - 10 * HOUR_US, shown),
        'show interfaces': ('interfaces', 'show', now_us, shown),
    }
    answers = {}
    for name, (table, verb, when, summary) in questions.items():
        if rows[table] == 0:
            continue
        ask(table, verb, when)  # untimed: the first call pays for lazy imports and parser set-up
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            df = ask(table, verb, when)
            times.append((time.perf_counter() - start) * 1000)
        answers[name] = {'p50': percentile(times, 0.5), 'p95': percentile(times, 0.95), 'result': summary(df)}
        log(f'suzieq: {name}: {answers[name]}')

    print(json.dumps({'load_s': load_s, 'coalesce_s': coalesce_s, 'rows': rows, 'questions': answers}))


if __name__ == '__main__':
    main()
