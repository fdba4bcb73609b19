FROM scratch
COPY hello /
CMD ["/hello"]
CMD ["/hi"]
