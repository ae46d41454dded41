#!/usr/bin/env python3
"""INT telemetry reports as a switch sends them, built with scapy from the P4.org layouts
(Telemetry Report v0.5 with its Drop and Switch Local headers, an INT-MD v0.5 stack with its
tail over UDP), for the collector's tests:

    scapy_reports.py write CAPTURE.pcap|CAPTURE.pcapng   the scenario as a capture
    scapy_reports.py send HOST PORT                      the same reports over UDP

The scenario, from exporter 10.0.0.13 (hw_id 3), starting 2026-11-20T11:00:00Z:
  - 20 flow reports of 10.1.10.101:40000 -> 10.1.20.104:4791 over three switches, numbered
    1..20 with 7 lost, 12 duplicated and 15 before 14;
  - a drop report (switch 0x0a000001 drops a TCP flow, reason 60 "ACL deny");
  - a queue report (switch 0x0a000002, port 49, queue 1 at 500 cells, 3000 ns);
  - two datagrams no collector can read: a truncated report and an unknown version.
"""

import socket
import struct
import sys

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import PcapNgWriter, PcapWriter

EXPORTER = "10.0.0.13"
COLLECTOR = "10.0.0.1"
PORT = 31337
START = 1795172400  # 2026-11-20T11:00:00Z
HW_ID = 3
PATH = [  # first switch on the path first: (switch id, ingress port, egress port, latency ns, queue, occupancy)
    (0x0A000001, 1, 49, 400, 0, 12),
    (0x0A000002, 3, 4, 650, 1, 40),
    (0x0A000003, 51, 2, 380, 0, 8),
]


def report_header(next_proto, dropped, congested, tracked, sequence, ingress_ns):
    word = (0 << 28) | (next_proto << 24) | (dropped << 23) | (congested << 22) | (tracked << 21) | HW_ID
    return struct.pack("!III", word, sequence, ingress_ns & 0xFFFFFFFF)


def int_stack_v0_5(hops):
    """Shim (type 1, length in words), INT header with 4 instructions, the hops newest first, tail."""
    instructions = 4
    length = 3 + len(hops) * instructions + 1
    shim = struct.pack("!BBBB", 1, 0, length, 0)
    header = struct.pack("!BBBBHH", 0, instructions, 8, len(hops), 0xF000, 0)
    data = b"".join(
        struct.pack("!IHHII", switch, ingress, egress, latency, (queue << 24) | occupancy)
        for switch, ingress, egress, latency, queue, occupancy in reversed(hops)
    )
    tail = struct.pack("!BHB", 17, 4791, 0)
    return shim + header + data + tail


def inner_udp_flow():
    return bytes(
        Ether(src="44:38:39:00:00:01", dst="44:38:39:00:00:02")
        / IP(src="10.1.10.101", dst="10.1.20.104", id=1)
        / UDP(sport=40000, dport=4791)
        / Raw(int_stack_v0_5(PATH))
    )


def inner_tcp_flow():
    return bytes(
        Ether(src="44:38:39:00:00:03", dst="44:38:39:00:00:04")
        / IP(src="10.1.10.102", dst="10.1.20.103", id=2)
        / TCP(sport=51000, dport=443, flags="S")
    )


def scenario():
    """(seconds after START, report payload) in sending order; a report is sent half a second
    after its packet entered the switch, unless its time says otherwise."""
    flow = inner_udp_flow()
    numbers = [n for n in range(1, 21) if n != 7]
    numbers.insert(numbers.index(12) + 1, 12)
    at14, at15 = numbers.index(14), numbers.index(15)
    numbers[at14], numbers[at15] = 15, 14
    payloads = []
    for i, n in enumerate(numbers):
        ingress_ns = (START + i) * 1_000_000_000 + 250
        payloads.append((i, report_header(0, 0, 0, 1, n, ingress_ns) + flow))
    drop = struct.pack("!IHHBBH", 0x0A000001, 5, 51, 1, 60, 0)
    payloads.append((30, report_header(1, 1, 0, 0, 21, (START + 30) * 10**9) + drop + inner_tcp_flow()))
    # The packet entered just before its switch's 32-bit nanoseconds wrapped, and left after.
    near = (START + 31) * 10**9
    ingress = near - near % 2**32 + 0xFFFF_FF00
    local = struct.pack("!IHHII", 0x0A000002, 3, 49, (1 << 24) | 500, (ingress + 3000) % 2**32)
    payloads.append((ingress / 1e9 - START + 0.001, report_header(2, 0, 1, 0, 22, ingress) + local + flow))
    whole = report_header(0, 0, 0, 1, 23, (START + 32) * 10**9) + flow
    payloads.append((32, whole[: len(whole) - 20]))
    payloads.append((33, b"\xf0" * 40))
    return payloads


def write(path):
    writer = PcapNgWriter(path) if path.endswith(".pcapng") else PcapWriter(path, sync=True)
    for number, (offset, payload) in enumerate(scenario()):
        packet = (
            Ether(src="44:38:39:00:00:13", dst="44:38:39:00:00:99")
            / IP(src=EXPORTER, dst=COLLECTOR, id=number)
            / UDP(sport=40001, dport=PORT)
            / Raw(payload)
        )
        packet.time = START + offset + (0.5 if isinstance(offset, int) else 0)
        writer.write(packet)
    writer.close()


def send(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as out:
        for _, payload in scenario():
            out.sendto(payload, (host, port))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
