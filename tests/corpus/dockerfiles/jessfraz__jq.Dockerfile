FROM alpine:latest

RUN apk add --no-cache \
	bash \
	ca-certificates \
	curl \
	findutils \
	git \
	jq \
	openssh-client
