"""Test-support helpers (Firebase Auth emulator, …) shared by the Linli test suite."""
