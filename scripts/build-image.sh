#!/usr/bin/env bash
# Builds the image the Helm chart runs (the repository's Dockerfile) with whichever builder this
# machine has — Docker, Podman or Buildah — and optionally loads it into a local cluster.
#
#   scripts/build-image.sh                          # tag ghcr.io/trellis-dev/trellis:<chart appVersion>
#   scripts/build-image.sh --load kind              # then `kind load docker-image` it (--kind-name <cluster>)
#   scripts/build-image.sh --load minikube          # then `minikube image load` it
#   scripts/build-image.sh --tag registry.example.com/trellis:dev --push
#   scripts/build-image.sh --print                  # print the commands, run nothing
#
# Environment: BUILDER=docker|podman|buildah picks the builder (default: the first that works).
# The default tag is what the chart's values name (image.repository, image.tag = the chart's
# appVersion), so `helm install` finds the image without --set once it is in the cluster.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
chart="$root/charts/trellis"

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

fail() {
  echo "build-image: $*" >&2
  exit 1
}

# The chart's image: values.yaml's image.repository and Chart.yaml's appVersion.
repository=$(awk '/^image:/ { inside = 1; next } inside && /^[^ ]/ { inside = 0 } inside && $1 == "repository:" { print $2; exit }' "$chart/values.yaml")
app_version=$(awk '$1 == "appVersion:" { gsub(/"/, "", $2); print $2; exit }' "$chart/Chart.yaml")
[[ -n "$repository" && -n "$app_version" ]] || fail "cannot read image.repository from $chart/values.yaml or appVersion from $chart/Chart.yaml"

tag="$repository:$app_version"
load=""
kind_name="kind"
push=false
print=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tag) [[ $# -ge 2 ]] || fail "--tag needs a value (e.g. --tag registry.example.com/trellis:dev)"; tag="$2"; shift 2 ;;
    --tag=*) tag="${1#--tag=}"; shift ;;
    --load) [[ $# -ge 2 ]] || fail "--load needs kind or minikube"; load="$2"; shift 2 ;;
    --load=*) load="${1#--load=}"; shift ;;
    --kind-name) [[ $# -ge 2 ]] || fail "--kind-name needs the kind cluster's name"; kind_name="$2"; shift 2 ;;
    --push) push=true; shift ;;
    --print) print=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) fail "unknown option \"$1\" (see --help)" ;;
  esac
done
case "$load" in ""|kind|minikube) ;; *) fail "--load must be kind or minikube, got \"$load\"" ;; esac
[[ "$tag" == *:* ]] || fail "--tag must name a tag too (repository:tag), got \"$tag\""

# A builder that can build now: the engine answers (Docker, Podman), or Buildah is present.
works() {
  case "$1" in
    docker|podman) command -v "$1" >/dev/null 2>&1 && "$1" info >/dev/null 2>&1 ;;
    buildah) command -v buildah >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}
builder="${BUILDER:-}"
if [[ -n "$builder" ]]; then
  case "$builder" in docker|podman|buildah) ;; *) fail "BUILDER must be docker, podman or buildah, got \"$builder\"" ;; esac
  if ! $print && ! works "$builder"; then
    fail "BUILDER=$builder cannot build here: $(command -v "$builder" >/dev/null 2>&1 && echo "its engine does not answer (\`$builder info\` fails)" || echo "it is not installed")"
  fi
else
  for candidate in docker podman buildah; do
    if works "$candidate"; then builder="$candidate"; break; fi
  done
  if [[ -z "$builder" ]]; then
    $print && builder=docker || {
      found=""
      command -v docker >/dev/null 2>&1 && found=" (docker is installed, but its engine does not answer: \`docker info\` fails — start Docker, or use rootless Podman)"
      fail "no image builder here: install Docker (with a running engine), Podman or Buildah$found"
    }
  fi
fi

commands=()
case "$builder" in
  docker|podman) commands+=("$builder build --file $root/Dockerfile --tag $tag $root") ;;
  buildah) commands+=("buildah build --file $root/Dockerfile --tag $tag $root") ;;
esac
$push && commands+=("$builder push $tag")
case "$load" in
  kind)
    # kind loads from the Docker engine; from Podman or Buildah, through an archive.
    if [[ "$builder" == docker ]]; then commands+=("kind load docker-image $tag --name $kind_name")
    else commands+=("$builder push $tag docker-archive:/tmp/trellis-image.tar:$tag" "kind load image-archive /tmp/trellis-image.tar --name $kind_name"); fi ;;
  minikube) commands+=("minikube image load $tag") ;;
esac

for c in "${commands[@]}"; do
  if $print; then echo "$c"; else echo "+ $c" >&2; $c; fi
done
if ! $print; then
  echo "built $tag" >&2
  if [[ "$tag" != "$repository:$app_version" ]]; then
    echo "install with: helm install trellis $chart -n trellis-system --create-namespace --set image.repository=${tag%:*} --set image.tag=${tag##*:}" >&2
  fi
fi
