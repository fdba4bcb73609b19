#!/bin/sh
# filewatch: answer "all ok" while every watched file is fresh, "ERROR: ..." (HTTP 503)
# as soon as one is missing or older than its limit. Served as a CGI by busybox httpd.
#
#   FILEWATCH_DIR    directory holding the watched files (default /watch)
#   FILEWATCH_FILES  space-separated NAME:MAX_AGE_SECONDS (default heartbeat:600)
dir=${FILEWATCH_DIR:-/watch}
now=$(date +%s)
errors=""
for spec in ${FILEWATCH_FILES:-heartbeat:600}; do
    name=${spec%%:*}
    max=${spec##*:}
    f="$dir/$name"
    if [ ! -e "$f" ]; then
        errors="${errors}ERROR: $name is missing
"
        continue
    fi
    age=$((now - $(stat -c %Y "$f")))
    if [ "$age" -gt "$max" ]; then
        errors="${errors}ERROR: $name is stale (${age}s old, limit ${max}s)
"
    fi
done
if [ -z "$errors" ]; then
    printf 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nall ok\n'
else
    printf 'Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\n%s' "$errors"
fi
