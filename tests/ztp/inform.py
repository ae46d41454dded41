#!/usr/bin/env python3
"""CTRLD's DHCPINFORM, built with scapy: option 61 carries the serial number (type 0), option 55
asks for 54 (server identifier) and 210 (loader-pathprefix, RFC 5071). Sent from the client's
address over a plain UDP socket on port 68, so the unicast answer comes back to the same socket;
prints the answer's options as one JSON object {"op": …, "yiaddr": …, "options": {code: value}}
(text options as text, the rest as hex; 54 as an address), or exits 1 when none arrives.

    inform.py --client 10.0.0.2 --server 10.0.0.1 --mac 02:00:00:00:00:09 --serial 591654XK1902037
"""
import argparse
import json
import random
import socket
import sys

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.utils import mac2str


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True, help="the client's own address (ciaddr)")
    ap.add_argument("--server", required=True, help="the DHCP server's address")
    ap.add_argument("--mac", required=True)
    ap.add_argument("--serial", required=True)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--tries", type=int, default=3)
    args = ap.parse_args()

    xid = random.randrange(1, 2**32)
    request = BOOTP(
        op=1,
        htype=1,
        hlen=6,
        xid=xid,
        ciaddr=args.client,
        chaddr=mac2str(args.mac) + b"\x00" * 10,
    ) / DHCP(
        options=[
            ("message-type", "inform"),
            ("client_id", b"\x00" + args.serial.encode()),
            ("param_req_list", [54, 210]),
            "end",
        ]
    )
    payload = bytes(request)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.client, 68))
    sock.settimeout(args.timeout)
    for _ in range(args.tries):
        sock.sendto(payload, (args.server, 67))
        try:
            while True:
                data, _ = sock.recvfrom(4096)
                reply = BOOTP(data)
                if reply.xid == xid and reply.op == 2:
                    print(json.dumps(describe(reply)))
                    return 0
        except socket.timeout:
            continue
    print("no answer to the DHCPINFORM", file=sys.stderr)
    return 1


def describe(reply):
    options = {}
    raw = bytes(reply[DHCP]) if DHCP in reply else b""
    # Walk the options by hand: scapy names only the codes it knows, 210 among the unknown.
    i = 0
    while i < len(raw):
        code = raw[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        length = raw[i + 1]
        value = raw[i + 2 : i + 2 + length]
        i += 2 + length
        if code in (1, 3, 6, 28, 50, 54):
            text = ",".join(socket.inet_ntoa(value[j : j + 4]) for j in range(0, len(value), 4))
        elif code in (12, 15, 60, 66, 67, 114, 210, 239):
            text = value.decode("utf-8", "replace")
        else:
            text = value.hex()
        options[str(code)] = text
    return {"op": reply.op, "yiaddr": reply.yiaddr, "ciaddr": reply.ciaddr, "options": options}


if __name__ == "__main__":
    sys.exit(main())
