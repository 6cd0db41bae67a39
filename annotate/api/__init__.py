"""The REST API (Django REST Framework): another door onto the services of annotate."""
