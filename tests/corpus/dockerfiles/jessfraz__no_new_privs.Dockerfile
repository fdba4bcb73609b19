FROM alpine:latest

COPY nnp /usr/local/bin/nnp
RUN chmod +s /usr/local/bin/nnp

CMD ["/usr/local/bin/nnp"]
