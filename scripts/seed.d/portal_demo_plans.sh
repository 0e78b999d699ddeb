#!/usr/bin/env bash
# Demo exercise plans for the seeded patients (idempotent: patients with a plan are skipped).
set -euo pipefail
cd "$(dirname "$0")/../.."
python manage.py plans_seed_demo
