#!/usr/bin/env bash
# The GPU benches of issue 14 on a machine with no Node.js and no internet. `npm run
# bench:device-kit` copies this file into the kit (.device/) beside what it runs: node.gz (a Node
# runtime), bench/ (one esbuild bundle per bench, with the .wasm files they read),
# node_modules/webgpu (Dawn's binding, dawn.node gzipped), debs/ (Debian's Vulkan loader) and
# benches.txt (the bundles, in order). README "Benchmarks" gives the device call.
#
# Environment: OUT (required) receives run.log, one <bench>.log a bench and, when the Vulkan
# loader or NVIDIA's driver is missing, missing.txt. KIT_BUDGET_S (default 300) is the seconds the
# benches may take in all; each gets its share of what is left. VK_DRIVER_FILES or
# VK_ICD_FILENAMES, when set, name the driver (a software adapter, for a check without a GPU);
# else NVIDIA's Vulkan ICD is looked for where drivers put it (KIT_ICD_CANDIDATES overrides the
# list). The kit folder is only read: everything is unpacked into a fresh folder under /tmp.
set -uo pipefail

kit=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${OUT:?OUT must name the folder the logs are written to}
budget=${KIT_BUDGET_S:-300}
mkdir -p "$out"
exec > >(tee -a "$out/run.log") 2>&1
work=$(mktemp -d "${TMPDIR:-/tmp}/purification-lab-kit.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "device kit: $(cat "$kit/kit.txt" 2>/dev/null || echo 'no kit.txt')"
echo "machine: $(uname -srm), $(nproc) cores; GPU: $( (nvidia-smi -L 2>/dev/null || echo 'nvidia-smi: none') | head -n 3 | tr '\n' ' ')"

# --- The Vulkan loader (libvulkan.so.1): one the environment or the system already has comes
# first; the carried Debian package is unpacked into $work (not into /) and searched after them.
# The dynamic loader's cache, read once (a search that stops early in a pipe would make ldconfig
# fail with SIGPIPE, which pipefail reports as not found).
ldcache=$(ldconfig -p 2>/dev/null || true)
find_loader() {
  local dir
  local IFS=:
  for dir in ${LD_LIBRARY_PATH:-}; do
    if [ -n "$dir" ] && [ -e "$dir/libvulkan.so.1" ]; then echo "$dir/libvulkan.so.1"; return 0; fi
  done
  awk '/libvulkan\.so\.1 / { print $NF; found = 1; exit } END { exit !found }' <<<"$ldcache"
}
for deb in "$kit"/debs/*.deb; do
  [ -e "$deb" ] || continue
  dpkg -x "$deb" "$work/vulkan" || echo "could not unpack $deb (dpkg -x)"
done
for dir in "$work"/vulkan/usr/lib/*-linux-gnu; do
  [ -d "$dir" ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$dir"
done
missing=()
if loader=$(find_loader); then echo "Vulkan loader: $loader"; else missing+=("the Vulkan loader libvulkan.so.1 (neither on LD_LIBRARY_PATH, nor in ldconfig's cache, nor in the kit's debs/)"); fi

# --- The driver: NVIDIA's Vulkan ICD (a JSON file naming the driver's library).
icd_candidates=${KIT_ICD_CANDIDATES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json /etc/vulkan/icd.d/nvidia_icd.x86_64.json}
icd_folders="/usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d"
if [ -n "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  echo "Vulkan driver, from the environment: ${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-}}"
else
  icd=
  for candidate in $icd_candidates; do
    if [ -f "$candidate" ]; then icd=$candidate; break; fi
  done
  if [ -z "$icd" ]; then
    missing+=("NVIDIA's Vulkan ICD (none of: $icd_candidates)")
  else
    # The loader reads VK_DRIVER_FILES from 1.3.207 on, older ones VK_ICD_FILENAMES.
    export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
    library=$(sed -n 's/.*"library_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$icd" | head -n 1)
    echo "Vulkan driver: $icd (library_path $library)"
    if [ -n "$library" ] && [ "${library#/}" = "$library" ] && ! grep -qF "$library" <<<"$ldcache"; then
      # A bare name the dynamic loader's cache lacks: the driver's own folder, where NVIDIA's
      # container runtime mounts it, goes on LD_LIBRARY_PATH.
      found=
      for dir in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu; do
        if [ -e "$dir/$library" ]; then export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$dir"; found=$dir; break; fi
      done
      if [ -n "$found" ]; then echo "  $library found in $found (added to LD_LIBRARY_PATH)"; else missing+=("the ICD's library $library (not in ldconfig's cache, /usr/local/nvidia/lib64, /usr/local/nvidia/lib or /usr/lib/x86_64-linux-gnu)"); fi
    fi
  fi
fi

# What a GPU machine's Vulkan set-up holds, for missing.txt: exactly what is there and what is not.
show_vulkan_setup() {
  local dir
  for dir in $icd_folders; do echo "\$ ls -la $dir"; ls -la "$dir" 2>&1; done
  echo "\$ nvidia-smi"; nvidia-smi 2>&1 || echo "(nvidia-smi: exit $?)"
  echo "\$ ldconfig -p | grep -i vulkan"; ldconfig -p 2>&1 | grep -i vulkan || echo "(no match)"
  echo "\$ ldconfig -p | grep -i -e GLX_nvidia -e nvidia-glcore"; ldconfig -p 2>&1 | grep -i -e GLX_nvidia -e nvidia-glcore || echo "(no match)"
  echo "\$ find /usr/local/nvidia /usr/share/vulkan /etc/vulkan -maxdepth 4 -iname '*icd*'"; find /usr/local/nvidia /usr/share/vulkan /etc/vulkan -maxdepth 4 -iname '*icd*' 2>&1
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"
}
if [ ${#missing[@]} -gt 0 ]; then
  {
    echo "MISSING, so WebGPU can see no GPU here:"
    for what in "${missing[@]}"; do echo "  - $what"; done
    show_vulkan_setup
  } | tee "$out/missing.txt"
  exit 3
fi

# --- Node and the bundles, unpacked into $work.
gzip -dc "$kit/node.gz" >"$work/node" && chmod +x "$work/node" || { echo "could not unpack $kit/node.gz"; exit 4; }
cp -R "$kit/bench" "$kit/node_modules" "$work/" || { echo "could not copy the bundles to $work"; exit 4; }
gzip -d "$work"/node_modules/webgpu/dist/*/dawn.node.gz || { echo "could not unpack dawn.node.gz"; exit 4; }
echo "node: $("$work/node" --version) (carried)"

# --- The benches, each with its share of the time left. Loader errors and warnings go to the logs.
mapfile -t benches < <(grep -v '^[[:space:]]*$' "$kit/benches.txt")
start=$SECONDS
status=0
for i in "${!benches[@]}"; do
  name=${benches[$i]}
  left=$((budget - (SECONDS - start)))
  share=$((left / (${#benches[@]} - i)))
  echo
  echo "=== $name (at most ${share} s of the ${left} s left)"
  (cd "$work/bench" && VK_LOADER_DEBUG=error,warn timeout -k 10 "$share" "$work/node" "$name.mjs") 2>&1 | tee "$out/$name.log"
  code=${PIPESTATUS[0]}
  [ "$code" = 124 ] && echo "=== $name: stopped at its ${share} s share"
  [ "$code" != 0 ] && { echo "=== $name: exit $code"; status=$code; }
done

echo
echo "the adapter, as each bench printed it:"
adapters=0
for name in "${benches[@]}"; do
  line=$(grep -m 1 -h '^ *adapter:' "$out/$name.log" 2>/dev/null | sed 's/^ *//')
  echo "  $name: ${line:-(none printed)}"
  [ -n "$line" ] && adapters=$((adapters + 1))
done
if [ "$adapters" = 0 ]; then
  # The loader and a driver were there, yet no bench got an adapter: the loader's messages are
  # in the logs above; what the machine holds goes beside them.
  { echo "NO ADAPTER: the Vulkan loader and driver were found, but no bench got a WebGPU adapter"; show_vulkan_setup; } | tee "$out/missing.txt"
  [ "$status" = 0 ] && status=5
fi
exit $status
