FROM nginx:1.29
COPY . /usr/share/nginx/html
USER 101
