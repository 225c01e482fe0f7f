"""Tests for tipsom."""
