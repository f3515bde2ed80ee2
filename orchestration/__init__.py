"""Dagster code for the CRM warehouse: extract → gate 1 → dbt → gate 2 → publish."""
