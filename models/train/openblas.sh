# Sourced by train.sh and smoke.sh. OpenBLAS 0.3.21 (Debian 12) takes the CPU of some VMs, whose CPUID
# names no model ("Intel(R) Xeon(R) Processor"), for a Prescott and runs its SSE3 kernels: on this project's
# 2-vCPU Xeon a 512x512 float matmul ran at 20-29 GFLOPS that way against 94-103 with the SkylakeX kernels,
# and a cross-entropy epoch took 4.7 min instead of about 2. Unless OPENBLAS_CORETYPE is already set, name the
# kernel family from the CPU's flags.
if [ -z "${OPENBLAS_CORETYPE+set}" ] && [ -r /proc/cpuinfo ]; then
  flags=$(grep -m1 '^flags' /proc/cpuinfo)
  has() { for f in "$@"; do [[ " $flags " == *" $f "* ]] || return 1; done; }
  if has avx512f avx512bw avx512dq avx512vl; then
    export OPENBLAS_CORETYPE=SkylakeX
  elif has avx2 fma; then
    export OPENBLAS_CORETYPE=Haswell
  fi
  unset flags
  unset -f has
fi
