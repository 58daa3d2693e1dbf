"""The warehouse's Airflow DAGs (one per file), their shared definitions in ``common`` and the
TaskFlow tasks several DAGs share in ``tasks`` (both listed in ``.airflowignore``)."""
