#!/usr/bin/env bash
# shellcheck disable=SC2016  # the single-quoted `sh -c` scripts take their arguments as $0, $@
# Sonde lab: a real 2-spine / 2-leaf / 2-server fabric in Linux network namespaces, running real
# FRR (zebra, bgpd, staticd under watchfrr) and lldpd. No mocks: the agent and every check are
# tested against it. Needs root, frr (8.4) and lldpd (1.0.16); no systemd.
#
# Topology (all fabric links are veth pairs, MTU 9000 on both ends):
#
#        spine01  AS 65101  lo 10.0.0.21             spine02  AS 65102  lo 10.0.0.22
#         swp1            swp2                        swp1            swp2
#          |                 \                       /                |
#          |                  '--------.  .--------'                 |
#          |                            \/                            |
#          |                  .--------'  '--------.                 |
#          |                 /                       \                |
#         swp51           swp52                       swp51           swp52
#        leaf01  AS 65011  lo 10.0.0.11              leaf02  AS 65012  lo 10.0.0.12
#         swp1 10.1.1.1/24                            swp1 10.1.2.1/24
#          |                                           |
#         eth1 10.1.1.10/24, default via 10.1.1.1     eth1 10.1.2.10/24, default via 10.1.2.1
#        server01                                    server02
#
#   leaf swp51 <-> spine01 swp<leaf#>, leaf swp52 <-> spine02 swp<leaf#>.
#   BGP: eBGP unnumbered (IPv6 link-local, RFC 5549) on every spine-leaf link, one ASN per node and
#   a SPECIFIC remote-as per neighbour (so an ASN change on one side gives "Bad Peer AS"),
#   timers 3 9, `frr defaults datacenter`, multipath-relax, maximum-paths 64. Every router
#   announces its loopback /32; leaves also announce their server subnet. 8 sessions in all.
#   Servers run lldpd only (no routing daemon).
#   LLDP: lldpd on every node on swp* and eth1..; tx-interval 5, port id = interface name.
#
# Out-of-band management: namespace <prefix>oob holds bridge br0 (192.168.200.1/24, where the
# Sonde server runs); every node has eth0 (veth, bridge side m-<node>) on it:
#   spine01 .11  spine02 .12  leaf01 .13  leaf02 .14  server01 .15  server02 .16  (192.168.200.x/24)
# lldpd never runs on eth0. Nothing links to the root namespace.
#
# Names: SONDE_LAB_PREFIX (default empty; letters, digits, '_' and '-' only) is prefixed to every
# namespace (<prefix><node>, <prefix>oob), FRR instance (/etc/frr/<ns>, /run/frr/<ns>), lldpd
# socket/pid/config (/run/lldpd-<ns>.{socket,pid,conf}) and the log dir
# (/tmp/sonde-lab<prefix>/), so labs with different prefixes run side by side. Hostnames (UTS,
# as seen by FRR, lldpd and anything started with `exec`) are always the plain node names.
#
# Usage: [SONDE_LAB_PREFIX=p-] fabric.sh <command>
#   up                      build the lab (tearing down leftovers with the same prefix first), start
#                           FRR and lldpd, wait (<= SONDE_LAB_TIMEOUT s, default 40) until all 8
#                           BGP sessions are Established and LLDP sees the right peer on every
#                           fabric link; non-zero exit with diagnostics otherwise (the half-built
#                           lab is left for inspection: run `down`).
#   down                    stop every lab process, delete namespaces, FRR dirs, sockets, pid
#                           files and logs. Never fails; safe to run twice or on a partial lab.
#   status                  exit 0 if this prefix's lab namespaces exist, 1 otherwise.
#   nodes                   print the node names, one per line.
#   ns <node>               print the node's namespace name.
#   oob                     print the management namespace name (server side: 192.168.200.1).
#   mgmt-ip <node>          print the node's eth0 address (no prefix length).
#   exec <node> <cmd...>    run a command in the node's namespace with UTS hostname <node>.
#   vtysh <node> <cmd...>   run vtysh on the node's FRR instance; each argument is one -c command,
#                           e.g. vtysh leaf01 'configure terminal' 'router bgp 65011' ...
#   lldpcli <node> <args..> run lldpcli against the node's lldpd, e.g. lldpcli leaf01 -f json0 show neighbors
#
# Logs: /tmp/sonde-lab<prefix>/<node>/{zebra,bgpd,staticd,watchfrr,frrinit,lldpd}.log (FRR daemons
# log through --log file:, lldpd runs in the foreground with stderr there). SONDE_LAB_VERBOSE=1
# makes `up` print its phases with timings.
#
# Faults that show up for real (checked on FRR 8.4.4 / lldpd 1.0.16 / Linux 6.x):
#   Interface down:  fabric.sh exec leaf01 ip link set swp51 down
#     -> within ~1 s both ends Idle, lastResetDueTo "Waiting for NHT" (bgpd.log: "%ADJCHANGE:
#        neighbor swp51(spine01) in vrf default Down Waiting for NHT"); spine01 swp1 NO-CARRIER;
#        leaf01's ECMP routes shrink to swp52. `ip link set swp51 up` restores it within ~1 s.
#   ASN change on one side (possible because remote-as is specific, not `external`):
#     fabric.sh vtysh leaf01 'configure terminal' 'router bgp 65011' 'neighbor swp51 remote-as 65999'
#     -> both ends stay Idle; "lastNotificationReason":"OPEN Message Error/Bad Peer AS",
#        "lastErrorCodeSubcode":"0202" on one end or both (`show bgp neighbors <peer> json`): each
#        retry rewrites the last reset of one side ("Waiting for peer OPEN"), and the first ~2 s
#        show "Cease/Other Configuration Change". Repair: the same with remote-as 65101, then
#        `clear bgp swp51` on leaf01 and `clear bgp swp1` on spine01: failed retries back the idle
#        hold timer off to tens of seconds (up to 120) and without the clears the session may
#        stay down for a minute.
#   MTU mismatch:  fabric.sh exec leaf02 ip link set swp52 mtu 1500   (spine02 swp2 stays 9000)
#     -> BGP stays up; DF packets > 1500 from spine02 to leaf02 vanish: leaf02 swp52 rx_dropped
#        and (on this kernel) spine02 swp2 tx_dropped count them; no error counters move.
#
# Notes: FRR's pathspace is the namespace name (watchfrr -N <ns> --netns enters
# /run/netns/<ns> itself; vtysh -N <ns> reaches /run/frr/<ns>/*.vty from the root namespace).
# Each node gets /etc/netns/<ns>/{hosts,resolv.conf} (its name resolves locally, DNS fails at
# once); without them lldpd on the servers hangs ~8 s in DNS before it answers. `down` takes
# ~6 s: frrinit.sh stops each FRR daemon with SIGINT and every daemon takes 1-2 s to exit.

set -euo pipefail
export PATH="${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/sbin:/sbin"

PREFIX=${SONDE_LAB_PREFIX:-}
if [[ ! $PREFIX =~ ^[A-Za-z0-9_-]*$ ]]; then
    echo "fabric.sh: SONDE_LAB_PREFIX may only hold letters, digits, '_' and '-' (got '$PREFIX')" >&2
    exit 2
fi
LOGDIR=/tmp/sonde-lab${PREFIX}
TIMEOUT=${SONDE_LAB_TIMEOUT:-40}
FRRINIT=/usr/lib/frr/frrinit.sh
OOB=${PREFIX}oob

NODES=(spine01 spine02 leaf01 leaf02 server01 server02)
ROUTERS=(spine01 spine02 leaf01 leaf02)
declare -A ASN=([spine01]=65101 [spine02]=65102 [leaf01]=65011 [leaf02]=65012)
declare -A LOOPBACK=([spine01]=10.0.0.21 [spine02]=10.0.0.22 [leaf01]=10.0.0.11 [leaf02]=10.0.0.12)
declare -A MGMT=([spine01]=192.168.200.11 [spine02]=192.168.200.12 [leaf01]=192.168.200.13
    [leaf02]=192.168.200.14 [server01]=192.168.200.15 [server02]=192.168.200.16)
# Fabric links: "nodeA ifA nodeB ifB".
LINKS=(
    "spine01 swp1 leaf01 swp51"
    "spine01 swp2 leaf02 swp51"
    "spine02 swp1 leaf01 swp52"
    "spine02 swp2 leaf02 swp52"
    "leaf01 swp1 server01 eth1"
    "leaf02 swp1 server02 eth1"
)
# BGP sessions: "router interface peer".
SESSIONS=(
    "spine01 swp1 leaf01" "spine01 swp2 leaf02"
    "spine02 swp1 leaf01" "spine02 swp2 leaf02"
    "leaf01 swp51 spine01" "leaf01 swp52 spine02"
    "leaf02 swp51 spine01" "leaf02 swp52 spine02"
)

die() { echo "fabric.sh: $*" >&2; exit 1; }
log() { echo "fabric.sh: $*" >&2; }
T0=${EPOCHREALTIME/./}
# With SONDE_LAB_VERBOSE=1, say where `up` is and how long it has taken so far.
phase() {
    [[ ${SONDE_LAB_VERBOSE:-} == 1 ]] || return 0
    local ms=$(((${EPOCHREALTIME/./} - T0) / 1000))
    printf 'fabric.sh: %6d ms %s\n' "$ms" "$*" >&2
}

is_node() {
    local n
    for n in "${NODES[@]}"; do [[ $n == "$1" ]] && return 0; done
    return 1
}
need_node() {
    [[ $# -ge 1 ]] || die "missing node name (one of: ${NODES[*]})"
    is_node "$1" || die "unknown node '$1' (one of: ${NODES[*]})"
}
is_router() { [[ -n ${ASN[$1]:-} ]]; }
nsname() { echo "${PREFIX}$1"; }
need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

# Run a command in a node's namespace with its UTS hostname set to the node name.
node_exec() {
    local node=$1; shift
    ip netns exec "$(nsname "$node")" unshare --uts sh -c 'hostname "$0"; exec "$@"' "$node" "$@"
}

# ---------------------------------------------------------------------------------------------
# down

# Kill every process in a namespace (TERM, then KILL); quiet and never failing.
kill_ns_pids() {
    local ns=$1 pids
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -z $pids ]] && return 0
    # shellcheck disable=SC2086  # one pid a word
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 1 20); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [[ -z $pids ]] && return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    for _ in $(seq 1 20); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [[ -z $pids ]] && return 0
        sleep 0.05
    done
}

# Kill the process of a pid file, only if it still is one of ours (pids get reused).
kill_pidfile() {
    local f=$1 pid comm
    [[ -r $f ]] || return 0
    pid=$(cat "$f" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    case $comm in
        lldpd|watchfrr|zebra|bgpd|staticd) kill -TERM "$pid" 2>/dev/null || true ;;
    esac
}

cmd_down() {
    need_root
    set +e
    local node ns
    # FRR first, the polite way (watchfrr, then the daemons, zebra last), all nodes in parallel.
    for node in "${ROUTERS[@]}"; do
        ns=$(nsname "$node")
        if [[ -r /etc/frr/$ns/daemons ]]; then
            timeout 20 "$FRRINIT" stop "$ns" >/dev/null 2>&1 &
        fi
    done
    wait
    for node in "${NODES[@]}"; do
        ns=$(nsname "$node")
        kill_pidfile "/run/lldpd-$ns.pid"
        # Leftovers whose namespace is gone cannot be found through `ip netns pids`: pid files.
        for f in /run/frr/"$ns"/*.pid; do kill_pidfile "$f"; done
    done
    for node in "${NODES[@]}" oob; do
        [[ $node == oob ]] && ns=$OOB || ns=$(nsname "$node")
        kill_ns_pids "$ns" &
    done
    wait
    for node in "${NODES[@]}" oob; do
        [[ $node == oob ]] && ns=$OOB || ns=$(nsname "$node")
        ip netns del "$ns" >/dev/null 2>&1
        rm -rf "/etc/frr/$ns" "/run/frr/$ns" "/etc/netns/$ns"
        rm -f "/run/lldpd-$ns.socket" "/run/lldpd-$ns.socket.lock" "/run/lldpd-$ns.pid" "/run/lldpd-$ns.conf"
    done
    rm -rf "$LOGDIR"
    set -e
    return 0
}

leftovers() {
    local node ns
    for node in "${NODES[@]}" oob; do
        [[ $node == oob ]] && ns=$OOB || ns=$(nsname "$node")
        [[ -e /run/netns/$ns || -e /etc/frr/$ns || -e /run/frr/$ns || -e /run/lldpd-$ns.socket ]] && return 0
    done
    [[ -e $LOGDIR ]]
}

# ---------------------------------------------------------------------------------------------
# up

frr_daemons_file() {
    local node=$1 d=$LOGDIR/$1
    cat <<EOF
# Sonde lab: FRR instance for $node (namespace $(nsname "$node")).
bgpd=yes
ospfd=no
ospf6d=no
ripd=no
ripngd=no
isisd=no
pimd=no
pim6d=no
ldpd=no
nhrpd=no
eigrpd=no
babeld=no
sharpd=no
pbrd=no
bfdd=no
fabricd=no
vrrpd=no
pathd=no
vtysh_enable=yes
frr_profile="datacenter"
watchfrr_options="--netns --log file:$d/watchfrr.log"
zebra_options="  -A 127.0.0.1 -s 90000000 --log file:$d/zebra.log"
bgpd_options="   -A 127.0.0.1 --log file:$d/bgpd.log"
staticd_options="-A 127.0.0.1 --log file:$d/staticd.log"
EOF
}

frr_conf() {
    local node=$1 lo=${LOOPBACK[$1]} s iface peer
    cat <<EOF
frr version 8.4.4
frr defaults datacenter
hostname $node
service integrated-vtysh-config
!
router bgp ${ASN[$node]}
 bgp router-id $lo
 no bgp ebgp-requires-policy
 bgp bestpath as-path multipath-relax
 neighbor FABRIC peer-group
 neighbor FABRIC timers 3 9
EOF
    for s in "${SESSIONS[@]}"; do
        read -r r iface peer <<<"$s"
        [[ $r == "$node" ]] || continue
        echo " neighbor $iface interface peer-group FABRIC"
        echo " neighbor $iface remote-as ${ASN[$peer]}"
    done
    cat <<EOF
 !
 address-family ipv4 unicast
  network $lo/32
EOF
    case $node in
        leaf01) echo "  network 10.1.1.0/24" ;;
        leaf02) echo "  network 10.1.2.0/24" ;;
    esac
    cat <<EOF
  maximum-paths 64
 exit-address-family
!
EOF
}

lldpd_conf() {
    cat <<EOF
configure system hostname $1
configure lldp tx-interval 5
configure lldp portidsubtype ifname
EOF
}

sysctls() {
    local node=$1 fwd=1
    is_router "$node" || fwd=0
    ip netns exec "$(nsname "$node")" sysctl -q -w \
        net.ipv4.ip_forward=$fwd \
        net.ipv6.conf.all.forwarding=$fwd \
        net.ipv4.conf.all.rp_filter=0 \
        net.ipv4.conf.default.rp_filter=0 \
        net.ipv4.fib_multipath_hash_policy=1 \
        net.ipv6.conf.all.disable_ipv6=0 \
        net.ipv6.conf.default.disable_ipv6=0 \
        net.ipv6.conf.all.accept_dad=0 \
        net.ipv6.conf.default.accept_dad=0 \
        net.ipv4.conf.all.arp_ignore=1 >/dev/null
}

start_frr() {
    local node=$1 ns
    ns=$(nsname "$node")
    install -d -o frr -g frr -m 0750 "/etc/frr/$ns"
    frr_daemons_file "$node" | install -o frr -g frr -m 0640 /dev/stdin "/etc/frr/$ns/daemons"
    frr_conf "$node" | install -o frr -g frr -m 0640 /dev/stdin "/etc/frr/$ns/frr.conf"
    printf 'service integrated-vtysh-config\n' |
        install -o frr -g frr -m 0640 /dev/stdin "/etc/frr/$ns/vtysh.conf"
    # watchfrr enters the namespace itself (--netns, the pathspace name = the namespace name);
    # its own UTS namespace gives FRR (and the BGP hostname capability) the node's hostname.
    unshare --uts sh -c 'hostname "$0"; exec "$1" start "$2"' "$node" "$FRRINIT" "$ns" \
        </dev/null >"$LOGDIR/$node/frrinit.log" 2>&1 ||
        die "FRR failed to start on $node; see $LOGDIR/$node/frrinit.log"
}

start_lldpd() {
    local node=$1 ns
    ns=$(nsname "$node")
    lldpd_conf "$node" >"/run/lldpd-$ns.conf"
    rm -f "/run/lldpd-$ns.socket" "/run/lldpd-$ns.socket.lock" "/run/lldpd-$ns.pid"
    # -d: stay in the foreground so that its log goes to our file; setsid + no inherited stdio so
    # that callers waiting on our output (e.g. Command::output) are not held by it. It must not be
    # waited for: `wait` without pids would block forever.
    setsid ip netns exec "$ns" unshare --uts sh -c 'hostname "$0"; exec "$@"' "$node" \
        lldpd -d -u "/run/lldpd-$ns.socket" \
        -I 'swp*,eth[1-9]*' -O "/run/lldpd-$ns.conf" \
        </dev/null >>"$LOGDIR/$node/lldpd.log" 2>&1 &
    # In the foreground (-d) lldpd writes no pid file: ours ($! is lldpd itself, the exec chain
    # ip netns exec -> unshare -> sh -> lldpd forks nowhere).
    echo $! >"/run/lldpd-$ns.pid"
}

build_topology() {
    local node ns l a ia b ib

    for node in "${NODES[@]}" oob; do
        [[ $node == oob ]] && ns=$OOB || ns=$(nsname "$node")
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    # `ip netns exec` bind-mounts /etc/netns/<ns>/* over /etc: the node's own name resolves locally
    # and DNS fails at once. Without it lldpd (and anything resolving its hostname) waits for DNS
    # timeouts on the servers, whose default route leads nowhere: ~8 s before lldpd answers.
    for node in "${NODES[@]}"; do
        ns=$(nsname "$node")
        install -d -m 0755 "/etc/netns/$ns"
        printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$node" \
            >"/etc/netns/$ns/hosts"
        printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$ns/resolv.conf"
    done
    for node in "${NODES[@]}"; do sysctls "$node" & done
    wait

    # Management bridge.
    ip -n "$OOB" link add br0 type bridge
    ip -n "$OOB" addr add 192.168.200.1/24 dev br0
    ip -n "$OOB" link set br0 up
    for node in "${NODES[@]}"; do
        ns=$(nsname "$node")
        ip -n "$OOB" link add "m-$node" type veth peer name eth0 netns "$ns"
        ip -n "$OOB" link set "m-$node" master br0 up
        ip -n "$ns" addr add "${MGMT[$node]}/24" dev eth0
        ip -n "$ns" link set eth0 up
    done

    # Fabric links.
    for l in "${LINKS[@]}"; do
        read -r a ia b ib <<<"$l"
        ip -n "$(nsname "$a")" link add "$ia" mtu 9000 type veth peer name "$ib" mtu 9000 netns "$(nsname "$b")"
    done
    for l in "${LINKS[@]}"; do
        read -r a ia b ib <<<"$l"
        ip -n "$(nsname "$a")" link set "$ia" up
        ip -n "$(nsname "$b")" link set "$ib" up
    done

    # Addresses.
    for node in "${ROUTERS[@]}"; do
        ip -n "$(nsname "$node")" addr add "${LOOPBACK[$node]}/32" dev lo
    done
    ip -n "$(nsname leaf01)" addr add 10.1.1.1/24 dev swp1
    ip -n "$(nsname leaf02)" addr add 10.1.2.1/24 dev swp1
    ip -n "$(nsname server01)" addr add 10.1.1.10/24 dev eth1
    ip -n "$(nsname server02)" addr add 10.1.2.10/24 dev eth1
    ip -n "$(nsname server01)" route add default via 10.1.1.1 dev eth1
    ip -n "$(nsname server02)" route add default via 10.1.2.1 dev eth1
}

# Whitespace-free JSON of a router's BGP summary (empty on error).
bgp_summary() {
    vtysh -N "$(nsname "$1")" -c 'show bgp summary json' 2>/dev/null | tr -d ' \t\n' || true
}

# Print the BGP sessions that are not Established yet ("router:iface"); none when all are up.
bgp_missing() {
    local node s r iface peer json
    declare -A sum=()
    for node in "${ROUTERS[@]}"; do sum[$node]=$(bgp_summary "$node"); done
    for s in "${SESSIONS[@]}"; do
        read -r r iface peer <<<"$s"
        json=${sum[$r]}
        [[ $json =~ \"$iface\":\{[^}]*\"state\":\"Established\" ]] || echo "$r:$iface"
    done
}

# Print the link ends where LLDP does not (yet) show the expected peer ("node:iface").
lldp_missing() {
    local l a ia b ib node kv
    declare -A kvs=()
    for node in "${NODES[@]}"; do
        kvs[$node]=$(lldpcli -u "/run/lldpd-$(nsname "$node").socket" -f keyvalue show neighbors 2>/dev/null || true)
    done
    for l in "${LINKS[@]}"; do
        read -r a ia b ib <<<"$l"
        kv=${kvs[$a]}
        grep -qxF "lldp.$ia.chassis.name=$b" <<<"$kv" && grep -qxF "lldp.$ia.port.ifname=$ib" <<<"$kv" ||
            echo "$a:$ia"
        kv=${kvs[$b]}
        grep -qxF "lldp.$ib.chassis.name=$a" <<<"$kv" && grep -qxF "lldp.$ib.port.ifname=$ia" <<<"$kv" ||
            echo "$b:$ib"
    done
}

diagnose() {
    local node
    for node in "${ROUTERS[@]}"; do
        echo "--- $node: show bgp summary" >&2
        vtysh -N "$(nsname "$node")" -c 'show bgp summary' >&2 2>&1 || true
    done
    for node in "${NODES[@]}"; do
        echo "--- $node: lldpcli show neighbors summary" >&2
        lldpcli -u "/run/lldpd-$(nsname "$node").socket" show neighbors summary >&2 2>&1 || true
    done
    for f in "$LOGDIR"/*/bgpd.log; do
        [[ -s $f ]] || continue
        echo "--- tail $f" >&2
        tail -n 6 "$f" >&2 || true
    done
    for f in "$LOGDIR"/*/{lldpd,zebra,frrinit}.log; do
        grep -qiE 'warn|err|fail|fatal|crit' "$f" 2>/dev/null || continue
        echo "--- warnings and errors in $f" >&2
        grep -iE 'warn|err|fail|fatal|crit' "$f" | tail -n 4 >&2 || true
    done
}

cmd_up() {
    need_root
    local node missing_bgp missing_lldp deadline
    for tool in ip vtysh lldpd lldpcli unshare setsid "$FRRINIT"; do
        command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y frr lldpd iproute2 util-linux)"
    done
    if leftovers; then
        log "tearing down leftovers of a previous lab with prefix '$PREFIX'"
        cmd_down
    fi
    install -d -m 0755 "$LOGDIR"
    for node in "${NODES[@]}"; do install -d -o frr -g frr -m 0755 "$LOGDIR/$node"; done

    phase "building topology"
    build_topology
    phase "starting FRR and lldpd"

    local frr_pids=()
    for node in "${ROUTERS[@]}"; do
        start_frr "$node" &
        frr_pids+=($!)
    done
    for node in "${NODES[@]}"; do start_lldpd "$node"; done
    wait "${frr_pids[@]}" || true
    # FRR's exit codes are not reliable: check that every watchfrr is alive.
    for node in "${ROUTERS[@]}"; do
        [[ -r /run/frr/$(nsname "$node")/watchfrr.pid ]] ||
            { diagnose; die "FRR did not start on $node; see $LOGDIR/$node/"; }
    done

    phase "daemons started, waiting for BGP and LLDP"
    deadline=$(($(date +%s) + TIMEOUT))
    local kicked=0
    while :; do
        missing_bgp=$(bgp_missing)
        missing_lldp=$(lldp_missing)
        phase "missing: BGP" "${missing_bgp//$'\n'/ }" "LLDP" "${missing_lldp//$'\n'/ }"
        [[ -z $missing_bgp && -z $missing_lldp ]] && break
        # Every lldpd sends at start, but a peer that started later missed it: once all are up,
        # ask each to send now instead of waiting for the next tx-interval.
        if [[ $kicked -eq 0 ]]; then
            local all=1
            for node in "${NODES[@]}"; do
                [[ -S /run/lldpd-$(nsname "$node").socket ]] || all=0
            done
            if [[ $all -eq 1 ]]; then
                kicked=1
                phase "all lldpd up: asking each to send now"
                for node in "${NODES[@]}"; do
                    lldpcli -u "/run/lldpd-$(nsname "$node").socket" update >/dev/null 2>&1 || true
                done
            fi
        fi
        if (($(date +%s) >= deadline)); then
            diagnose
            [[ -n $missing_bgp ]] && log "BGP sessions not Established after ${TIMEOUT}s:" "${missing_bgp//$'\n'/ }"
            [[ -n $missing_lldp ]] && log "LLDP peers missing after ${TIMEOUT}s on:" "${missing_lldp//$'\n'/ }"
            die "lab '$PREFIX' did not come up; it is left as is for inspection: run '$0 down'"
        fi
        sleep 0.25
    done
    local ms=$(((${EPOCHREALTIME/./} - T0) / 1000))
    log "lab '$PREFIX' up in $((ms / 1000)).$((ms % 1000 / 100))s: 8 BGP sessions Established, LLDP peers on all 12 link ends"
}

# ---------------------------------------------------------------------------------------------

usage() {
    sed -n '/^# Usage:/,/^# Logs:/p' "$0" | sed 's/^# \{0,1\}//' | sed '$d' >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
cmd=$1; shift
case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    status) [[ -e /run/netns/$OOB ]] ;;
    nodes) printf '%s\n' "${NODES[@]}" ;;
    ns) need_node "$@"; nsname "$1" ;;
    oob) echo "$OOB" ;;
    mgmt-ip) need_node "$@"; echo "${MGMT[$1]}" ;;
    exec)
        need_node "$@"; node=$1; shift
        [[ $# -ge 1 ]] || die "exec: missing command"
        node_exec "$node" "$@"
        ;;
    vtysh)
        need_node "$@"; node=$1; shift
        is_router "$node" || die "$node runs no FRR"
        args=()
        for c in "$@"; do args+=(-c "$c"); done
        exec vtysh -N "$(nsname "$node")" "${args[@]}"
        ;;
    lldpcli)
        need_node "$@"; node=$1; shift
        exec lldpcli -u "/run/lldpd-$(nsname "$node").socket" "$@"
        ;;
    -h|--help|help) usage ;;
    *) echo "fabric.sh: unknown command '$cmd'" >&2; usage ;;
esac
