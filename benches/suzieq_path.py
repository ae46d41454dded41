"""SuzieQ 0.25's `path show` beside Sonde's `trace`: the same questions over the same state.

Converts the state a Sonde store holds at one instant into a SuzieQ Parquet store laid out as
SuzieQ's poller writes it, then traces each (source, destination) pair with SuzieQ's own Python
API, get_sqobject('path')(...).get(namespace=..., src=..., dest=..., vrf='default'), once to
warm up and then `runs` times in this process, and prints one JSON object as the last line of
stdout:

    {"load_s": ..., "rows": {"interfaces": n, "routes": n, "arpnd": n, "macs": n, "mlag": n},
     "traces": [{"src": "...", "dst": "...", "p50": ms, "p95": ms, "paths": n, "error": null},
                ...]}

`paths` is the number of distinct paths (pathid) SuzieQ reports; when SuzieQ raises (or answers
with an error) `error` holds its message, `paths` is null and p50/p95 time the failing calls.
Each timed call builds its path object afresh, as `path show` does, so no cache carries over.

    <venv>/bin/python benches/suzieq_path.py <sonde-store> <at-µs> <runs> <scratch-dir> \
        <src-ip> <dst-ip> [<src-ip> <dst-ip> ...]

(SuzieQ pins pandas 1.5 and pyarrow 14: install it in a virtualenv of its own, see suzieq.py.)
<scratch-dir> gets suzieq-cfg.yml and the store, parquet/, which is replaced on every run.

What is loaded: for each table SuzieQ's path engine reads, the state at <at-µs> only, i.e. for
every key the newest Sonde event with timestamp <= at, dropped when that event is a deletion;
one SuzieQ record per key, stamped with that event's time (in ms), written one file per host
and poll as the poller would (SUZIEQ_POLL_PERIOD_S, see suzieq.py). No history and no coalescing:
path show reads the latest state, and holding only it costs SuzieQ nothing it would not read.

    SuzieQ table  from Sonde's
    interfaces    interfaces, with ipAddressList/ip6AddressList from addresses (an interface's
                  record is as new as its newest address change); a bond's members are
                  bond_slave as the Cumulus poller reports them; an interface that holds
                  addresses but has no row of its own (`lo`) is written as that poller reports
                  it (loopback, up, MTU 65536, MAC 00:00:00:00:00:00)
    routes        routes, as the Linux/Cumulus poller cleans them (no next hop: [''], metric
                  20 when absent, weights [1], action forward)
    arpnd         neighbors (stale and delay read as reachable, no MAC as failed)
    macs          macs (mackey built as the poller builds it)
    mlag          clag, one record per node from its session row and its bonds

path never reads lldp or evpnVni, so they are not converted; devconfig and device, which
SuzieQ's interfaces table consults for port modes, stay empty.

SuzieQ finds the far end of a next hop through the neighbour entry's MAC and the interface
holding that MAC and the next hop's IPv4 address; a link-local (BGP unnumbered) next hop is on
no interface's IPv4 list, so it takes the far node's interfaces with that MAC, and where every
port of a node reports the node's one MAC it names one of them as the hop's iif. Hops and path
counts are right; iif, inMtu and mtuMatch may name another port of the right node.
"""

import importlib.util
import json
import os
import shutil
import sys
import time
import warnings
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
# This folder holds suzieq.py, which must not shadow the suzieq package.
sys.path = [p for p in sys.path if os.path.abspath(p or '.') != HERE]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402


def _load_bench_helpers():
    """suzieq.py's helpers (read_events, interfaces_rows, write_like_poller, write_config,
    percentile, log), imported under another name so that `suzieq` stays the package."""
    spec = importlib.util.spec_from_file_location('suzieq_bench', os.path.join(HERE, 'suzieq.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench_helpers()
log = bench.log
NAMESPACE = bench.NAMESPACE
ZERO_MAC = '00:00:00:00:00:00'


def state_at(store, table, keys, columns, at_us):
    """A table's newest event per (hostname, *keys) at `at_us`, deletions included (times in
    ms, as read_events gives them). Events of equal time keep the store's order."""
    ev = bench.read_events(store, table, ['timestamp', 'hostname', *keys, *columns, 'active'], at_us)
    if ev.empty:
        return ev
    ev = ev.sort_values('timestamp', kind='stable').drop_duplicates(['hostname', *keys], keep='last')
    return ev.reset_index(drop=True)


def live(latest):
    return latest[latest['active'].fillna(False).astype(bool)].reset_index(drop=True)


def objects(items):
    """A 1-D object array of these items (np.array would make lists of equal length a 2-D array)."""
    items = list(items)
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def lists(series, default, item=pa.string()):
    """Sonde list<utf8> cells as an object array of arrays of `item`; an empty or null cell
    becomes `default`."""
    cells = pa.array(series.to_numpy(object), pa.list_(pa.string()))
    empty = pc.equal(pc.fill_null(pc.list_value_length(cells), 0), 0)
    cells = pc.if_else(empty, pa.scalar([str(x) for x in default], cells.type), cells)
    return cells.cast(pa.list_(item)).to_numpy(zero_copy_only=False)


def interfaces_records(ifs, addr_latest):
    """Sonde interfaces + addresses → SuzieQ interfaces records (schema 4.0)."""
    addrs = live(addr_latest) if not addr_latest.empty else addr_latest
    if not addrs.empty:
        # Interfaces known only by their addresses (Sonde's agents report `lo` that way).
        pairs = addrs.groupby(['hostname', 'ifname'], sort=False) \
            .agg(timestamp=('timestamp', 'min'), vrf=('vrf', 'first')).reset_index()
        known = ifs[['hostname', 'ifname']] if not ifs.empty else pd.DataFrame(columns=['hostname', 'ifname'])
        pairs = pairs.merge(known, how='left', on=['hostname', 'ifname'], indicator=True)
        extra = pairs[pairs['_merge'] == 'left_only'].drop(columns='_merge')
        if not extra.empty:
            loopback = extra['ifname'].str.fullmatch(r'lo\d*').to_numpy(bool)
            extra = extra.assign(type=np.where(loopback, 'loopback', None), state='up', admin_state='up',
                                 mtu=np.where(loopback, 65536, None), mac=np.where(loopback, ZERO_MAC, None),
                                 active=True)
            ifs = pd.concat([ifs, extra], ignore_index=True) if not ifs.empty else extra.reset_index(drop=True)
    if ifs.empty:
        return None
    ifs = ifs.reset_index(drop=True)
    for name in ('type', 'state', 'admin_state', 'mtu', 'speed', 'mac', 'master', 'vrf', 'pvid', 'ifindex',
                 'description', 'last_flap'):
        if name not in ifs.columns:
            ifs[name] = None
    rec = bench.interfaces_rows(ifs)

    host, ifname, typ = rec['hostname'], rec['ifname'], rec['type'].astype(object)
    # A bond's members: Cumulus reports them as bond_slave, and path skips those as next hops.
    bonds = set(host[typ == 'bond'] + '\0' + pd.Series(ifname[typ == 'bond']).str.lower().to_numpy(object))
    member = (rec['master'] != '') & np.isin(host + '\0' + rec['master'], list(bonds)) & (typ != 'bond')
    typ[member] = 'bond_slave'
    rec['type'] = typ
    # An SVI's VLAN, when the agent left it out, is in its name (vlan10).
    svi = pd.to_numeric(pd.Series(ifname).str.extract(r'^[Vv]lan(\d+)$')[0]).fillna(0).to_numpy(np.int32)
    rec['vlan'] = np.where((typ == 'vlan') & (rec['vlan'] == 0), svi, rec['vlan']).astype(np.int32)
    for name in ('macaddr', 'interfaceMac'):
        rec[name] = np.where(rec[name] == '', ZERO_MAC, rec[name]).astype(object)

    index = pd.MultiIndex.from_arrays([host, ifname])
    ip4 = ip6 = objects([] for _ in host)
    if not addrs.empty:
        prefix = addrs['prefix'].fillna('')
        six = prefix.str.contains(':')

        def per_interface(mask):
            grouped = addrs[mask].groupby(['hostname', 'ifname'], sort=False)['prefix'].agg(list).reindex(index)
            return objects(v if isinstance(v, list) else [] for v in grouped)
        ip4 = per_interface(~six & (prefix != ''))
        ip6 = per_interface(six & (prefix != '::1/128'))
        # The poller writes a new record whenever the address list changes, removals included.
        changed = addr_latest.groupby(['hostname', 'ifname'])['timestamp'].max().reindex(index)
        rec['timestamp'] = np.maximum(rec['timestamp'], changed.fillna(0).to_numpy(np.int64))
    rec['ipAddressList'] = ip4
    rec['ip6AddressList'] = ip6
    return rec


def routes_records(rt):
    """Sonde routes → SuzieQ routes records (schema 3.0), as the Linux/Cumulus poller cleans them."""
    prefix = rt['prefix'].fillna('').to_numpy(object)
    six = np.array([':' in p for p in prefix])
    default = prefix == 'default'
    prefix = np.where(default & six, '::/0', np.where(default, '0.0.0.0/0', prefix))
    bare = np.array(['/' not in p for p in prefix])
    prefix = np.where(bare & six, prefix + '/128', np.where(bare, prefix + '/32', prefix))
    metric = rt['metric'].fillna(20).to_numpy(np.int64)
    n = len(rt)
    return {
        'hostname': bench.strs(rt['hostname']),
        'timestamp': rt['timestamp'].to_numpy(np.int64),
        'active': np.ones(n, bool),
        'vrf': bench.strs(rt['vrf'], 'default'),
        'prefix': prefix.astype(object),
        'ipvers': np.where(six, 6, 4).astype(np.int64),
        'protocol': bench.strs(rt['protocol']),
        'nexthopIps': lists(rt['nexthop_ips'], ['']),
        'oifs': lists(rt['oifs'], ['']),
        'weights': lists(rt['weights'], [1], pa.int64()),
        'metric': metric,
        'preference': metric,
        'source': bench.strs(rt['source']),
        'action': np.full(n, 'forward', object),
        'hardwareProgrammed': np.full(n, 'unknown', object),
    }


def arpnd_records(nb):
    """Sonde neighbors → SuzieQ arpnd records (schema 2.0), as the Linux poller cleans them."""
    mac = bench.strs(nb['mac'])
    state = pd.Series(bench.strs(nb['state'], 'reachable')).str.lower() \
        .replace({'stale': 'reachable', 'delay': 'reachable'}).to_numpy(object)
    return {
        'hostname': bench.strs(nb['hostname']),
        'timestamp': nb['timestamp'].to_numpy(np.int64),
        'active': np.ones(len(nb), bool),
        'ipAddress': bench.strs(nb['ip']),
        'oif': bench.strs(nb['ifname']),
        'macaddr': np.where(mac == '', ZERO_MAC, mac).astype(object),
        'state': np.where(mac == '', 'failed', state).astype(object),
        'remote': nb['is_remote'].fillna(False).to_numpy(bool),
    }


def macs_records(mc):
    """Sonde macs → SuzieQ macs records (schema 2.0); mackey as the poller's Linux cleaner makes it."""
    mac, oif = bench.strs(mc['mac']), bench.strs(mc['ifname'])
    vlan = bench.ints(mc['vlan'])
    vtep = bench.strs(mc['remote_vtep'])
    static = mc['is_static'].fillna(False).to_numpy(bool)
    flags = np.where(vtep != '', 'remote', np.where(static, 'static', bench.strs(mc['flags'])))
    vlan_s = vlan.astype(str).astype(object)
    mackey = np.where(vtep != '',
                      np.where(mac == ZERO_MAC, oif + '-' + vtep, np.where(vlan != 0, vlan_s, oif)),
                      np.where(vlan != 0, np.where(static, vlan_s + '-' + oif, vlan_s),
                               np.where(static, oif, '0')))
    return {
        'hostname': bench.strs(mc['hostname']),
        'timestamp': mc['timestamp'].to_numpy(np.int64),
        'active': np.ones(len(mc), bool),
        'macaddr': mac,
        'vlan': vlan,
        'mackey': mackey.astype(object),
        'oif': oif,
        'remoteVtepIp': vtep,
        'flags': flags.astype(object),
    }


def mlag_records(cl):
    """Sonde clag → SuzieQ mlag records (schema 2.0): one per node, from its session row (empty
    ifname; else its first row) and the states of its bonds."""
    cl = cl.assign(session=cl['ifname'].fillna('').eq(''))
    out = []
    for host, rows in cl.groupby('hostname', sort=True):
        session = rows[rows['session']]
        head = (session if not session.empty else rows).iloc[0]
        bonds = rows[~rows['session']]
        state = bonds['bond_state'].fillna('')
        dual = bonds['ifname'][state == 'dual'].tolist()
        single = bonds['ifname'][state == 'single'].tolist()
        error = bonds['ifname'][~state.isin(['dual', 'single'])].tolist()
        out.append({
            'hostname': host,
            'timestamp': int(rows['timestamp'].max()),
            'state': 'active' if head['peer_state'] == 'up' else 'inactive',
            'systemId': head['sysmac'] or '',
            'role': head['role'] or '',
            'peerRole': head['peer_role'] or '',
            'peerLink': head['peerlink'] or '',
            'backupIP': head['backup_ip'] or '',
            'backupActive': bool(head['backup_active']) if head['backup_active'] is not None else False,
            'mlagDualPortsList': dual, 'mlagDualPortsCnt': len(dual),
            'mlagSinglePortsList': single, 'mlagSinglePortsCnt': len(single),
            'mlagErrorPortsList': error, 'mlagErrorPortsCnt': len(error),
        })
    rec = {k: objects(r[k] for r in out) for k in out[0]}
    rec['timestamp'] = rec['timestamp'].astype(np.int64)
    rec['active'] = np.ones(len(out), bool)
    for k in ('mlagDualPortsCnt', 'mlagSinglePortsCnt', 'mlagErrorPortsCnt'):
        rec[k] = rec[k].astype(np.int64)
    rec['backupActive'] = rec['backupActive'].astype(bool)
    return rec


# SuzieQ table, its converter, and the Sonde table it comes from with its keys and value columns.
TABLES = (
    ('routes', routes_records, 'routes', ['vrf', 'prefix'],
     ['family', 'protocol', 'nexthop_ips', 'oifs', 'weights', 'metric', 'source']),
    ('arpnd', arpnd_records, 'neighbors', ['ifname', 'ip'], ['mac', 'state', 'is_remote']),
    ('macs', macs_records, 'macs', ['mac', 'vlan'], ['ifname', 'remote_vtep', 'is_static', 'flags']),
    ('mlag', mlag_records, 'clag', ['ifname'],
     ['peer_hostname', 'role', 'peer_role', 'peer_state', 'peerlink', 'sysmac', 'backup_ip', 'backup_active',
      'bond_state']),
)


def load(store, at_us, data_dir, schemas):
    """Writes the state at `at_us` as SuzieQ records; returns the number of records per table."""
    from suzieq.shared.schema import SchemaForTable

    rows = {}

    def write(table, rec):
        if rec is None:
            rows[table] = 0
            log(f'suzieq path: {table}: nothing in the store at this time')
            return
        files = bench.write_like_poller(data_dir, table, SchemaForTable(table, schemas), rec)
        rows[table] = len(rec['timestamp'])
        log(f'suzieq path: {table}: {rows[table]} records in {files} files')

    ifs = live(state_at(store, 'interfaces', ['ifname'],
                        ['type', 'state', 'admin_state', 'mtu', 'speed', 'mac', 'master', 'vrf', 'pvid',
                         'ifindex', 'description', 'last_flap'], at_us))
    addrs = state_at(store, 'addresses', ['ifname', 'prefix'], ['family', 'vrf'], at_us)
    write('interfaces', interfaces_records(ifs, addrs))
    for table, convert, source, keys, columns in TABLES:
        state = live(state_at(store, source, keys, columns, at_us))
        write(table, convert(state) if not state.empty else None)
    return rows


def iso(us):
    return (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=us)).isoformat()


def trace(cfg_file, at_us, src, dst):
    """One `path show src=… dest=… vrf=default`, as of `at_us`; its answer as a DataFrame."""
    from suzieq.sqobjects import get_sqobject

    obj = get_sqobject('path')(config_file=cfg_file, namespace=[NAMESPACE], end_time=iso(at_us))
    df = obj.get(namespace=[NAMESPACE], src=src, dest=dst, vrf='default')
    if 'error' in df.columns and len(df):
        raise RuntimeError(str(df['error'].iloc[0]))
    return df


def measure(cfg_file, at_us, runs, src, dst):
    error, df, times = None, None, []
    for i in range(runs + 1):  # the first call is the warm-up: lazy imports, parser set-up
        start = time.perf_counter()
        try:
            df = trace(cfg_file, at_us, src, dst)
        except Exception as e:  # SuzieQ signals "cannot trace" with many exception types
            error = error or f'{type(e).__name__}: {e}'
            df = None
        if i:
            times.append((time.perf_counter() - start) * 1000)
    paths = None
    if error is None and df is not None:
        paths = int(df['pathid'].nunique()) if 'pathid' in df.columns and len(df) else 0
    return {'src': src, 'dst': dst, 'p50': bench.percentile(times, 0.5), 'p95': bench.percentile(times, 0.95),
            'paths': paths, 'error': error}


def main():
    args = sys.argv[1:]
    if len(args) < 6 or len(args) % 2 or not args[1].lstrip('-').isdigit() or not args[2].isdigit() \
            or int(args[2]) < 1:
        sys.exit(__doc__)
    store, at_us, runs, scratch = args[0], int(args[1]), int(args[2]), os.path.abspath(args[3])
    pairs = list(zip(args[4::2], args[5::2]))

    from suzieq.shared.schema import Schema
    from suzieq.shared.utils import load_sq_config

    # pandas 1.5 warns about SuzieQ's own idioms on every trace; they say nothing about the answer.
    warnings.simplefilter('ignore', FutureWarning)
    warnings.simplefilter('ignore', pd.errors.SettingWithCopyWarning)

    os.makedirs(scratch, exist_ok=True)
    cfg_file, data_dir = bench.write_config(scratch)
    shutil.rmtree(data_dir, ignore_errors=True)
    schemas = Schema(load_sq_config(config_file=cfg_file)['schema-directory'])

    start = time.perf_counter()
    rows = load(store, at_us, data_dir, schemas)
    load_s = time.perf_counter() - start
    log(f'suzieq path: state at {iso(at_us)} converted in {load_s:.2f} s')

    traces = []
    for src, dst in pairs:
        result = measure(cfg_file, at_us, runs, src, dst)
        log(f'suzieq path: {src} -> {dst}: {result}')
        traces.append(result)

    print(json.dumps({'load_s': load_s, 'rows': rows, 'traces': traces}))


if __name__ == '__main__':
    main()
