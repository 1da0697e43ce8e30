#!/usr/bin/env bash
# Issue 24's checks on a lent GPU, as one run of the device tool (planned at about 6 of its 8 minutes on an H200):
#
#   here, once:   echo /.whl/ >> .git/info/exclude
#                 python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#                   --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
#                   transformers==5.24.0 pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 \
#                   typing-inspection==0.4.5 typing_extensions==4.16.0
#   then:         device run: command "bash bench/gpu_check.sh", carry [".whl"], timeout_s 540
#
# The machine's image has torch, tokenizers, huggingface_hub and pyyaml; the wheels bring our transformers and
# pydantic. It prints, and writes to $OUT/gpu_check.txt (copy it to bench/results/serving_gpu.txt):
#   1. bench/musicgen_speed.py --seconds 10: generate(), the eager loop and graphs, 1 and 4 takes;
#   2. bench/serving.py for 1, 4 and 16 users (2 takes of 10 s each), apart and batched;
#   3. peak GPU memory after 50 distinct prompt lengths, with the graph pool's counts.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
log="$OUT/gpu_check.txt"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "the carried wheels did not install" | tee "$log"; exit 1; }
  export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1 TRANSFORMERS_VERBOSITY=error HF_HUB_OFFLINE=1
quiet() { grep -v -E "Loading weights|Writing model shards|pad_token_id must be|bos_token_id must be"; }
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())"
} 2>&1 | tee "$log"
echo "== bench/musicgen_speed.py --seconds 10 --takes 1 --takes 4" | tee -a "$log"
timeout 200 python3 bench/musicgen_speed.py --seconds 10 --takes 1 --takes 4 2>&1 | quiet | tee -a "$log"
echo "== bench/serving.py --users 1 4 16 --seconds 10 --prompt-lengths 50" | tee -a "$log"
timeout 240 python3 bench/serving.py --users 1 4 16 --seconds 10 --prompt-lengths 50 2>&1 | quiet | tee -a "$log"
echo "== done $(date -u)" | tee -a "$log"
