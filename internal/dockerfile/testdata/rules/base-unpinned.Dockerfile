ARG BASE=nginx
FROM ${BASE} AS web
FROM redis:latest AS cache
FROM registry.example.com:5000/team/tool
FROM web
USER 101
