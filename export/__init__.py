"""Exports of trained models for serving."""
