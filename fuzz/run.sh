#!/usr/bin/env bash
# Fuzzes vmkflow's targets (src/fuzzing.rs) with AFL++ through cargo-afl, one after another, and
# fails when any target saved a crash or a hang. See docs/fuzzing.md.
#
# Usage: fuzz/run.sh [SECONDS]       SECONDS in all (default 60): half to `capture`, the rest
#                                    shared by `frame`, `labels`, `inventory`, `powercli`, `events`
# Environment:
#   FUZZ_TARGETS="capture frame"     only these targets (each still gets its share)
#   FUZZ_OUT=DIR                     AFL++'s output folders (default fuzz/out)
#   FUZZ_RESUME=1                    resume each target's previous run in FUZZ_OUT (its queue
#                                    as the seeds) instead of starting afresh
#   FUZZ_INSTALL=1 (or CI=true)      install cargo-afl (and build its AFL++) when missing
#   VMKFLOW_CORPUS=DIR               the pcapng conformance corpus (default ../shared/corpus)
#
# Seeds: fuzz/seeds/TARGET (made by fuzz/make-seeds.py from captures/), every input that ever
# failed (fuzz/regressions/TARGET), and for `capture` the corpus's pcapng files.
# A new crash or hang is printed (the panic, and the input in base64) and left in FUZZ_OUT, and
# the run fails; copy it to fuzz/regressions/open/TARGET/ until it is fixed, then one folder up.
# A crash that panics where an input of fuzz/regressions/open/TARGET/ panics is a known open
# finding: listed, not failing. A hang counts when it takes over 1 s again outside the fuzzer.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
total=${1:-60}
targets=${FUZZ_TARGETS:-capture frame labels inventory powercli events}
out=${FUZZ_OUT:-$here/out}
corpus=${VMKFLOW_CORPUS:-$root/../shared/corpus}
# cargo-afl's version, with the `afl` crate's in fuzz/Cargo.lock.
cargo_afl_version=0.18.2

section() { printf '\n=== %s ===\n' "$*"; }
start=$SECONDS

if ! cargo afl --version >/dev/null 2>&1; then
    if [[ ${FUZZ_INSTALL:-} == 1 || ${CI:-} == true ]]; then
        section "installing cargo-afl $cargo_afl_version"
        # Builds AFL++ (afl-fuzz and its LLVM runtime) from the sources in the crate: needs only
        # a C compiler and make.
        cargo install cargo-afl --locked --version "$cargo_afl_version"
    else
        echo "cargo-afl is not installed: run with FUZZ_INSTALL=1, or" >&2
        echo "    cargo install cargo-afl --locked --version $cargo_afl_version" >&2
        exit 1
    fi
fi

# AFL++ itself, built once per Rust version (in ~/.local/share/afl.rs).
if ! built=$(cargo afl config --build 2>&1) && [[ $built != *"already built"* ]]; then
    echo "$built" >&2
    exit 1
fi

section "building the AFL++ harness (fuzz/)"
build_start=$SECONDS
(cd "$here" && cargo afl build --release --locked)
bin=${CARGO_TARGET_DIR:-$here/target}/release/vmkflow-afl
echo "built in $((SECONDS - build_start)) s: $bin"

# The seconds each target gets: capture half, the others an equal part of the rest.
share() {
    local n others=0
    for n in $targets; do [[ $n == capture ]] || others=$((others + 1)); done
    if [[ $1 == capture ]]; then
        if ((others == 0)); then echo "$total"; else echo $((total / 2)); fi
    elif [[ " $targets " == *" capture "* ]]; then
        echo $(((total - total / 2) / others))
    else
        echo $((total / others))
    fi
}

dict_of() {
    case $1 in
        capture | frame) echo "$here/dict/capture.dict" ;;
        *) echo "$here/dict/$1.dict" ;;
    esac
}

# The panic of `target` on `file`, as `LOCATION: MESSAGE` (the location without the checkout's
# path), or nothing when it ends without one.
panic_of() {
    local out
    out=$(RUST_BACKTRACE=0 timeout 60 bash -c '"$0" "$1" < "$2"' "$bin" "$1" "$2" 2>&1) || true
    grep -A 1 -m 1 'panicked at' <<<"$out" |
        sed -e 's/^thread .* panicked at //' -e "s#$root/##" | paste -sd ' ' || true
}

failed=0
mkdir -p "$out"
for t in $targets; do
    secs=$(share "$t")
    ((secs > 0)) || continue
    section "fuzzing $t for $secs s"
    # Open findings (fuzz/regressions/open/TARGET): where they panic today. A crash that panics
    # at one of these places is one of them, reported but not failing; any other is new.
    known=()
    for f in "$here/regressions/open/$t"/*; do
        [[ -f $f ]] || continue
        p=$(panic_of "$t" "$f")
        [[ -n $p ]] && known+=("${p%%: *}")
    done
    if ((${#known[@]})); then
        mapfile -t known < <(printf '%s\n' "${known[@]}" | sort -u)
        echo "open findings panic at: ${known[*]}"
    fi
    seeds="$out/$t.seeds"
    rm -rf "$seeds"
    mkdir -p "$seeds"
    cp "$here/seeds/$t"/* "$seeds/"
    if [[ -d $here/regressions/$t ]]; then
        for f in "$here/regressions/$t"/*; do
            [[ -f $f ]] && cp "$f" "$seeds/regression-$(basename "$f")"
        done
    fi
    if [[ $t == capture && -d $corpus ]]; then
        # The conformance corpus, both byte orders (each file a few KB).
        while IFS= read -r f; do
            rel=${f#"$corpus"/}
            cp "$f" "$seeds/corpus-${rel//\//-}"
        done < <(find "$corpus" -name '*.pcapng' -size -64k | sort)
    fi
    echo "seeds: $(find "$seeds" -type f | wc -l) files"
    input=(-i "$seeds")
    if [[ ${FUZZ_RESUME:-} == 1 && -f $out/$t/default/fuzzer_stats ]]; then
        input=(-i -)
    else
        rm -rf "${out:?}/$t"
    fi
    # -t: a hang is an input that takes more than 1 s (a seed takes a few ms);
    # -m: more than 1 GiB of memory is a crash (inputs are at most 1 MiB).
    AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
        AFL_NO_AFFINITY=1 TMPDIR=${TMPDIR:-/tmp} \
        cargo afl fuzz "${input[@]}" -o "$out/$t" -V "$secs" -t 1000 -m 1024 \
        -x "$(dict_of "$t")" -- "$bin" "$t" >"$out/$t.log" 2>&1 || {
        echo "afl-fuzz failed (a seed that crashes or hangs stops it); the end of its log:"
        tail -n 30 "$out/$t.log"
        failed=1
        continue
    }
    stats=$out/$t/default/fuzzer_stats
    for k in run_time execs_done execs_per_sec corpus_count bitmap_cvg saved_crashes saved_hangs; do
        printf '  %-14s %s\n' "$k" "$(sed -n "s/^$k *: //p" "$stats")"
    done
    shown=0
    for kind in crashes hangs; do
        for f in "$out/$t/default/$kind"/id*; do
            [[ -f $f ]] || continue
            if [[ $kind == crashes ]]; then
                p=$(panic_of "$t" "$f")
                is_known=0
                for k in "${known[@]}"; do [[ ${p%%: *} == "$k" ]] && is_known=1; done
                if ((is_known)); then
                    echo "  known open finding: $p ($(basename "$f"))"
                    continue
                fi
                echo
                echo "--- $t: NEW CRASH: ${p:-no panic outside the fuzzer (a signal, memory above 1 GiB, or it does not reproduce)}"
            else
                # A hang counts when it is slow again outside the fuzzer (a busy machine can
                # make one slow run).
                ms_start=$(date +%s%N)
                timeout 10 "$bin" "$t" <"$f" >/dev/null 2>&1 || true
                ms=$((($(date +%s%N) - ms_start) / 1000000))
                if ((ms < 1000)); then
                    echo "  a hang that does not reproduce: $ms ms now ($(basename "$f"))"
                    continue
                fi
                echo
                echo "--- $t: NEW HANG: ${ms} ms outside the fuzzer (at most 10 s tried)"
            fi
            failed=1
            echo "    $f ($(stat -c %s "$f") bytes)"
            shown=$((shown + 1))
            if ((shown <= 5)); then
                echo "    base64 (recreate with: base64 -d > fuzz/regressions/open/$t/NAME):"
                head -c 65536 "$f" | base64 -w 0
                echo
            fi
        done
    done
done

section "fuzzing done in $((SECONDS - start)) s"
if ((failed)); then
    echo "new crashes or hangs (above): add each input to fuzz/regressions/open/TARGET/" >&2
    exit 1
fi
echo "nothing new: no crashes or hangs but the open findings'"
