FROM alpine:latest

RUN apk add --no-cache \
	bash \
	strace

ENTRYPOINT ["strace"]
