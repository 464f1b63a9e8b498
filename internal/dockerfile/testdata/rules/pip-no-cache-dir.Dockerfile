FROM python:3.13-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt && python -m pip install gunicorn
COPY . .
USER 10001
CMD ["gunicorn", "app:app"]
