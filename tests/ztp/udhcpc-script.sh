#!/bin/sh
# udhcpc's script: appends the event ($1) and the lease udhcpc passes in its environment to the
# file $ZTP_DUMP, one `name=value` a line: ip, serverid, lease, … (option 210 as pxepathprefix,
# text; the options it has no name for as optNNN, hex).
{
  echo "event=$1"
  env | grep -E '^(interface|ip|mask|subnet|router|dns|domain|hostname|serverid|lease|pxepathprefix|opt[0-9]+|message)=' | sort
  echo "end"
} >> "$ZTP_DUMP"
