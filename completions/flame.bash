# bash completion for flame(1)                              -*- shell-script -*-
#
# Self-contained: it uses none of the bash-completion package's helpers, so it
# also works when sourced on its own (`. completions/flame.bash`).  When the
# package's _command_offset is loaded, the command given to `flame run` is
# completed as if it were typed on its own.
#
# Pool names are read from the configuration files only (never by running
# flame, which could start a warmer): the project file flame.json found by
# walking up from $PWD, or $FLAME_CONFIG instead of it, and the user file
# ${XDG_CONFIG_HOME:-$HOME/.config}/flame/config.json; "default" always exists.

# Print the keys of the top-level "pools" object of each JSON file given, one
# per line.  Not a full JSON parser: it tracks strings, escapes and nesting,
# which is enough for any ordinary formatting, on one line or many.
_flame_pool_keys_awk()
{
    awk '
    { text = text $0 "\n" }
    END {
        n = length(text); depth = 0; instr = 0; esc = 0; str = ""
        last = ""; poolsdepth = -1; want = 0
        for (i = 1; i <= n; i++) {
            c = substr(text, i, 1)
            if (instr) {
                if (esc) { str = str c; esc = 0 }
                else if (c == "\\") { esc = 1 }
                else if (c == "\"") { instr = 0; last = str }
                else { str = str c }
                continue
            }
            if (c == "\"") { instr = 1; str = ""; continue }
            if (c == ":") {
                if (depth == poolsdepth && last != "") print last
                if (depth == 1 && last == "pools") want = 1
                last = ""
                continue
            }
            if (c == "{" || c == "[") {
                depth++
                if (want && c == "{" && poolsdepth < 0) poolsdepth = depth
                want = 0; last = ""
                continue
            }
            if (c == "}" || c == "]") {
                if (depth == poolsdepth) poolsdepth = -2
                depth--; last = ""
                continue
            }
            if (c !~ /[ \t\r\n]/) { want = 0; last = "" }
            else if (c == ",") { last = "" }
        }
    }' "$1" 2>/dev/null
}

# Print the pool names known from the configuration, one per line, no
# duplicates, "default" first.
_flame_pools()
{
    local -a files=()
    local dir f user
    if [[ -n ${FLAME_CONFIG-} ]]; then
        files+=("$FLAME_CONFIG")
    else
        dir=$PWD
        while [[ -n $dir ]]; do
            if [[ -f $dir/flame.json ]]; then
                files+=("$dir/flame.json")
                break
            fi
            [[ $dir == / ]] && break
            dir=${dir%/*}
            dir=${dir:-/}
        done
    fi
    user=${XDG_CONFIG_HOME:-${HOME-}/.config}/flame/config.json
    files+=("$user")

    {
        echo default
        local -a readable=()
        for f in "${files[@]}"; do
            [[ -f $f && -r $f ]] && readable+=("$f")
        done
        if ((${#readable[@]})); then
            # python3 reads any valid JSON; if it is missing or broken, awk.
            if ! { type -P python3 >/dev/null 2>&1 && [[ -z ${_FLAME_COMP_NO_PYTHON-} ]] &&
                python3 -c '
import json, sys
for name in sys.argv[1:]:
    try:
        with open(name, encoding="utf-8") as fh:
            pools = json.load(fh).get("pools")
    except Exception:
        continue
    if isinstance(pools, dict):
        for key in pools:
            print(key)
' "${readable[@]}" 2>/dev/null; }; then
                for f in "${readable[@]}"; do
                    _flame_pool_keys_awk "$f"
                done
            fi
        fi
    } | awk '/^[A-Za-z0-9._-]+$/ && length($0) <= 64 && !seen[$0]++'
}

# COMPREPLY := the words of $1 that start with $2.
_flame_words()
{
    mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

_flame_files()
{
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

_flame_dirs()
{
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -d -- "$1")
}

_flame()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local -a words=("${COMP_WORDS[@]}")
    local cword=$COMP_CWORD
    COMPREPLY=()

    # `--pool=NAME`: COMP_WORDBREAKS splits it into `--pool`, `=`, `NAME`.
    if [[ $cur == = ]]; then
        prev=${words[cword - 1]}
        cur=
    elif [[ $prev == = ]] && ((cword >= 2)); then
        prev=${words[cword - 2]}
    fi

    if ((cword <= 1)); then
        if [[ $cur == -* ]]; then
            _flame_words "--help -h --version -V" "$cur"
        else
            _flame_words "run map pool warmer help version" "$cur"
        fi
        return 0
    fi

    local i w
    # run and map: the options that take a value
    local valopts="-p --pool --put --get --get-dir -e --env -t --timeout --slot-timeout --sh"
    [[ ${words[1]} == map ]] && valopts+=" -j --jobs --retries --halt --joblog"
    case ${words[1]} in
    run | map)
        case $prev in
        -p | --pool)
            _flame_words "$(_flame_pools)" "$cur"
            return 0 ;;
        --put)
            _flame_files "$cur"
            return 0 ;;
        --get-dir)
            _flame_dirs "$cur"
            return 0 ;;
        --joblog | ::::)
            _flame_files "$cur"
            return 0 ;;
        -e | --env)
            mapfile -t COMPREPLY < <(compgen -e -- "$cur")
            return 0 ;;
        --get | -t | --timeout | --slot-timeout | --sh | -j | --jobs | --retries | --halt)
            return 0 ;;
        esac

        # Find where the command starts: after `--` or at the first word
        # that is neither an option nor an option's value.
        local cmd=-1
        for ((i = 2; i < cword; i++)); do
            w=${words[i]}
            case $w in
            --)
                cmd=$((i + 1))
                break ;;
            =) ;;
            -*)
                # a value is the next word (`--pool=NAME`: `=` comes first)
                if [[ " $valopts " == *" $w "* ]]; then
                    if [[ ${words[i + 1]-} == = ]]; then ((i += 2)); else ((i += 1)); fi
                fi ;;
            *)
                cmd=$i
                break ;;
            esac
        done

        if ((cmd < 0)); then
            if [[ $cur == -* ]]; then
                if [[ ${words[1]} == map ]]; then
                    _flame_words "-p --pool -j --jobs -0 --null -k --keep-order --line-buffer --tag --sh --put --get --get-dir -e --env -t --timeout --slot-timeout --retries --retry-failed-commands --halt --joblog --joblog-extra --resume --resume-failed --bar -v --verbose --" "$cur"
                else
                    _flame_words "-p --pool --put --get --get-dir -e --env -t --timeout --slot-timeout --sh -v --verbose --" "$cur"
                fi
                return 0
            fi
            cmd=$cword
        fi
        if ((cmd > cword)); then
            return 0
        fi
        if declare -F _command_offset >/dev/null 2>&1; then
            _command_offset "$cmd"
            return 0
        fi
        if ((cmd == cword)); then
            mapfile -t COMPREPLY < <(compgen -c -- "$cur")
        else
            _flame_files "$cur"
        fi
        return 0 ;;

    pool)
        if ((cword == 2)); then
            _flame_words "ls scale drain key" "$cur"
            return 0
        fi
        case ${words[2]} in
        ls)
            _flame_words "--json" "$cur"
            ;;
        scale)
            case $prev in
            --min | --max | --max-concurrency | --stopped-max)
                return 0 ;;
            esac
            local have_name=
            for ((i = 3; i < cword; i++)); do
                case ${words[i]} in
                --min | --max | --max-concurrency | --stopped-max) ((i++)) ;;
                -* | =) ;;
                *) have_name=1 ;;
                esac
            done
            if [[ $cur == -* || -n $have_name ]]; then
                _flame_words "--min --max --max-concurrency --stopped-max" "$cur"
            else
                _flame_words "$(_flame_pools)" "$cur"
            fi
            ;;
        drain | key)
            # one pool name, then nothing
            if ((cword == 3)); then
                if [[ $cur == -* ]]; then
                    _flame_words "-h --help" "$cur"
                else
                    _flame_words "$(_flame_pools)" "$cur"
                fi
            fi
            ;;
        esac
        return 0 ;;

    warmer)
        if ((cword == 2)); then
            _flame_words "status stop run" "$cur"
        fi
        return 0 ;;
    esac
    return 0
}

complete -F _flame flame
