FROM alpine:latest

COPY pop /usr/local/bin/pop

CMD ["/usr/local/bin/pop"]
