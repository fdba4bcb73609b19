FROM alpine:latest
LABEL maintainer "Jessie Frazelle <jess@linux.com>"

RUN apk add --no-cache \
	aspell \
	aspell-en

ENTRYPOINT ["aspell"]
