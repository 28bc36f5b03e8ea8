#!/usr/bin/env bash
# Fails when an #include crosses the layering of docs/architecture.md:
#   base/ <- io/ <- traces/, models/ <- policies/ <- sim/ <- outputs/ <- studies/, hw/ <- tools/
# (each folder may include only folders to its left; models/ and traces/ are
# peers that do not include each other, and so are studies/ and hw/).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A forbidden=(
  [base]="io traces models policies sim outputs studies hw tools"
  [io]="traces models policies sim outputs studies hw tools"
  [traces]="models policies sim outputs studies hw tools"
  [models]="traces policies sim outputs studies hw tools"
  [policies]="sim outputs studies hw tools"
  [sim]="outputs studies hw tools"
  [outputs]="studies hw tools"
  [studies]="hw tools"
  [hw]="studies tools"
)
status=0
for layer in "${!forbidden[@]}"; do
  for other in ${forbidden[$layer]}; do
    if hits=$(grep -rnE "#include \"${other}/" "$layer" 2>/dev/null); then
      echo "layering: ${layer}/ must not include ${other}/:"
      echo "$hits" | sed 's/^/  /'
      status=1
    fi
  done
done
((status == 0)) && echo "layering: ok"
exit $status
