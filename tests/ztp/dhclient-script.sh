#!/bin/sh
# dhclient's script: puts the lease's address on the interface, so renewals go out unicast from it
# as on a real switch, and takes it away when the lease ends.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
case "$reason" in
BOUND | RENEW | REBIND | REBOOT)
  ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
  ;;
EXPIRE | FAIL | RELEASE | STOP)
  [ -n "$old_ip_address" ] && ip addr del "$old_ip_address/$old_subnet_mask" dev "$interface"
  ;;
esac
exit 0
