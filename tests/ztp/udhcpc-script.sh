#!/bin/sh
# udhcpc's script: appends the event ($1) and the lease udhcpc passes in its environment
# (ip, serverid, lease, optNNN as hex, …) to the file $ZTP_DUMP, one `name=value` a line.
{
  echo "event=$1"
  env | grep -E '^(interface|ip|mask|subnet|router|dns|domain|hostname|serverid|lease|opt[0-9]+|message)=' | sort
  echo "end"
} >> "$ZTP_DUMP"
