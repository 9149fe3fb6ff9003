"""Custos: GDPR-compliant SCIM provisioning with an encrypted local mirror."""

__version__ = "0.1.0"
APP_ID = "eu.custos.Custos"
APP_NAME = "Custos"
