# fish completion for flame(1).
#
# Pool names are read from the configuration files only (never by running
# flame, which could start a warmer): the project file flame.json found by
# walking up from $PWD, or $FLAME_CONFIG instead of it, and the user file
# ${XDG_CONFIG_HOME:-$HOME/.config}/flame/config.json; "default" always exists.

function __flame_pools --description 'Print the pool names of the flame configuration'
    set -l files
    if set -q FLAME_CONFIG; and test -n "$FLAME_CONFIG"
        set -a files $FLAME_CONFIG
    else
        set -l dir $PWD
        while test -n "$dir"
            if test -f "$dir/flame.json"
                set -a files "$dir/flame.json"
                break
            end
            test "$dir" = /; and break
            set dir (string replace -r '/[^/]*$' '' -- $dir)
            test -z "$dir"; and set dir /
        end
    end
    set -l confhome $HOME/.config
    if set -q XDG_CONFIG_HOME; and test -n "$XDG_CONFIG_HOME"
        set confhome $XDG_CONFIG_HOME
    end
    set -a files $confhome/flame/config.json

    set -l found
    for f in $files
        test -f "$f"; and test -r "$f"; and set -a found $f
    end

    begin
        echo default
        if test (count $found) -gt 0
            # python3 reads any valid JSON; if it is missing or broken, awk.
            if not command -sq python3; or not python3 -c '
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
' $found 2>/dev/null
                # Not a full JSON parser: tracks strings, escapes and nesting.
                for f in $found
                    awk '
                    { text = text $0 "\n" }
                    END {
                        n = length(text); depth = 0; instr = 0; esc = 0; str = ""
                        last = ""; poolsdepth = -1; want = 0
                        for (i = 1; i <= n; i++) {
                            c = substr(text, i, 1)
                            if (instr) {
                                if (esc) { str = str c; esc = 0 }
                                else if (c == "\\\\") { esc = 1 }
                                else if (c == "\\"") { instr = 0; last = str }
                                else { str = str c }
                                continue
                            }
                            if (c == "\\"") { instr = 1; str = ""; continue }
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
                            if (c !~ /[ \\t\\r\\n]/) { want = 0; last = "" }
                        }
                    }' $f 2>/dev/null
                end
            end
        end
    end | string match -r '^[A-Za-z0-9._-]{1,64}$' | awk '!seen[$0]++'
end

# Where the words of a `flame run` command line stand: prints "options" while
# flame's own options are being typed, "command" when the next word is the
# command, and "args" after it.
function __flame_run_state
    set -l words (commandline -opc)
    set -e words[1..2]
    set -l skip 0
    for w in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case --
                echo command
                return
            case -p --pool --put --get --get-dir -e --env -t --timeout --slot-timeout --sh -j --jobs --retries --halt --joblog
                set skip 1
            case '-*'
            case '*'
                echo args
                return
        end
    end
    echo options
end

# True when the subcommand (the first word after flame) is $argv[1], and, if
# given, the second word is $argv[2] (`flame pool scale`).
function __flame_sub
    set -l words (commandline -opc)
    test (count $words) -ge 2; and test "$words[2]" = $argv[1]; or return 1
    if set -q argv[2]
        test (count $words) -ge 3; and test "$words[3]" = $argv[2]; or return 1
    end
    return 0
end

# True right after `flame pool` or `flame warmer`: the next word is an action.
function __flame_sub_wants_action
    set -l words (commandline -opc)
    test (count $words) -eq 2; and test "$words[2]" = $argv[1]
end

# True while flame's own options of `flame $argv[1]` (run or map, whose
# words stand alike) are typed; __flame_after_options once the command is.
function __flame_in_options
    __flame_sub $argv[1]; or return 1
    test (__flame_run_state) = options
end

function __flame_after_options
    __flame_sub $argv[1]; or return 1
    not test (__flame_run_state) = options
end

function __flame_run_command_words
    # Everything after flame's own options: the command and its arguments.
    set -l words (commandline -opc)
    set -e words[1..2]
    set -l skip 0
    set -l i 0
    for w in $words
        set i (math $i + 1)
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case --
                printf '%s\n' $words[(math $i + 1)..-1]
                return
            case -p --pool --put --get --get-dir -e --env -t --timeout --slot-timeout --sh -j --jobs --retries --halt --joblog
                set skip 1
            case '-*'
            case '*'
                printf '%s\n' $words[$i..-1]
                return
        end
    end
end

function __flame_run_complete_command
    set -l cmd (__flame_run_command_words)
    set -l cur (commandline -ct)
    if test (count $cmd) -eq 0
        __fish_complete_command
    else
        complete -C (string join ' ' -- (string escape -- $cmd) "$cur")
    end
end

function __flame_pool_scale_wants_name
    set -l words (commandline -opc)
    test (count $words) -ge 3; or return 1
    test "$words[2]" = pool; and test "$words[3]" = scale; or return 1
    set -e words[1..3]
    set -l skip 0
    for w in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $w
            case --min --max --max-concurrency --stopped-max
                set skip 1
            case '-*'
            case '*'
                return 1
        end
    end
    return 0
end

# True after `flame pool $argv[1]` (key, drain) until the pool name is typed.
function __flame_pool_wants_one_name
    set -l words (commandline -opc)
    test (count $words) -eq 3; and test "$words[2]" = pool; and test "$words[3]" = $argv[1]
end

complete -c flame -f

# flame <TAB>
complete -c flame -n __fish_use_subcommand -a run -d 'Run a command on a runner of a pool'
complete -c flame -n __fish_use_subcommand -a map -d 'Run a command once per input, as GNU parallel does'
complete -c flame -n __fish_use_subcommand -a pool -d 'List the pools or change one'
complete -c flame -n __fish_use_subcommand -a warmer -d 'Query or control the warmer'
complete -c flame -n __fish_use_subcommand -a help -d 'Show usage'
complete -c flame -n __fish_use_subcommand -a version -d 'Show the version'
complete -c flame -n __fish_use_subcommand -s h -l help -d 'Show usage'
complete -c flame -n __fish_use_subcommand -s V -l version -d 'Show the version'

# flame run
complete -c flame -n '__flame_in_options run' -s p -l pool -x -a '(__flame_pools)' -d 'Pool to run in'
complete -c flame -n '__flame_in_options run' -l put -r -F -d 'Copy FILE into the scratch directory first'
complete -c flame -n '__flame_in_options run' -l get -x -d 'Copy back files matching PATTERN after exit'
complete -c flame -n '__flame_in_options run' -l get-dir -x -a '(__fish_complete_directories)' -d 'Directory where --get files land'
complete -c flame -n '__flame_in_options run' -s e -l env -x -a '(set -n -x)' -d 'Set NAME or NAME=VALUE in the job'
complete -c flame -n '__flame_in_options run' -s t -l timeout -x -d 'Kill the job after DURATION'
complete -c flame -n '__flame_in_options run' -l slot-timeout -x -d 'Wait at most DURATION for a free slot'
complete -c flame -n '__flame_in_options run' -l sh -x -d 'Run STRING with /bin/sh -c'
complete -c flame -n '__flame_in_options run' -s v -l verbose -d 'Report where the job ran and how long it waited'
complete -c flame -n '__flame_in_options run' -a '(__fish_complete_command)'
complete -c flame -n '__flame_after_options run' -a '(__flame_run_complete_command)'

# flame map
complete -c flame -n '__flame_in_options map' -s p -l pool -x -a '(__flame_pools)' -d 'Pool to run in'
complete -c flame -n '__flame_in_options map' -s j -l jobs -x -d 'Jobs at a time'
complete -c flame -n '__flame_in_options map' -s 0 -l null -d 'Inputs end with NUL, not newline'
complete -c flame -n '__flame_in_options map' -s k -l keep-order -d 'Show output in the order of the inputs'
complete -c flame -n '__flame_in_options map' -l line-buffer -d 'Pass output on line by line as it comes'
complete -c flame -n '__flame_in_options map' -l tag -d 'Put the input and a tab before each line'
complete -c flame -n '__flame_in_options map' -l sh -x -d 'Run STRING with /bin/sh -c, inputs quoted'
complete -c flame -n '__flame_in_options map' -l put -r -F -d 'Copy FILE into each job directory first'
complete -c flame -n '__flame_in_options map' -l get -x -d 'Fetch files matching PATTERN after each job'
complete -c flame -n '__flame_in_options map' -l get-dir -x -a '(__fish_complete_directories)' -d 'Directory where --get files land'
complete -c flame -n '__flame_in_options map' -s e -l env -x -a '(set -n -x)' -d 'Set NAME or NAME=VALUE in every job'
complete -c flame -n '__flame_in_options map' -s t -l timeout -x -d 'Kill a job after DURATION'
complete -c flame -n '__flame_in_options map' -l slot-timeout -x -d 'How long a job may wait for a slot'
complete -c flame -n '__flame_in_options map' -l retries -x -d 'Tries per job when its runner is lost'
complete -c flame -n '__flame_in_options map' -l retry-failed-commands -d 'Retry also when the command fails'
complete -c flame -n '__flame_in_options map' -l halt -x -a 'never now,fail=1 soon,fail=1 now,success=1 soon,success=1' -d 'Stop early'
complete -c flame -n '__flame_in_options map' -l joblog -r -F -d 'Log each job in GNU parallel format'
complete -c flame -n '__flame_in_options map' -l joblog-extra -d 'Add flame columns to the joblog'
complete -c flame -n '__flame_in_options map' -l resume -d 'Skip the jobs the joblog has'
complete -c flame -n '__flame_in_options map' -l resume-failed -d 'Skip the joblog jobs that succeeded'
complete -c flame -n '__flame_in_options map' -l bar -d 'Show progress on a terminal'
complete -c flame -n '__flame_in_options map' -s v -l verbose -d 'Say each job command'
complete -c flame -n '__flame_in_options map' -a '(__fish_complete_command)'
complete -c flame -n '__flame_after_options map' -a '(__flame_run_complete_command)'

# flame pool
complete -c flame -n '__flame_sub_wants_action pool' -a ls -d 'List the pools, their runners and slots'
complete -c flame -n '__flame_sub_wants_action pool' -a scale -d 'Change the limits of a live pool'
complete -c flame -n '__flame_sub_wants_action pool' -a drain -d 'Destroy the stopped machines a fly pool keeps'
complete -c flame -n '__flame_sub_wants_action pool' -a key -d 'Print the SSH public key of a pool'
complete -c flame -n '__flame_sub pool ls' -l json -d 'Print one JSON document'
complete -c flame -n __flame_pool_scale_wants_name -a '(__flame_pools)' -d 'Pool'
complete -c flame -n '__flame_sub pool scale' -l min -x -d 'Minimum number of runners'
complete -c flame -n '__flame_sub pool scale' -l max -x -d 'Maximum number of runners'
complete -c flame -n '__flame_sub pool scale' -l max-concurrency -x -d 'Jobs at a time per runner'
complete -c flame -n '__flame_sub pool scale' -l stopped-max -x -d 'Stopped machines a fly pool keeps'
complete -c flame -n '__flame_pool_wants_one_name drain' -a '(__flame_pools)' -d 'Pool'
complete -c flame -n '__flame_pool_wants_one_name key' -a '(__flame_pools)' -d 'Pool'

# flame warmer
complete -c flame -n '__flame_sub_wants_action warmer' -a status -d 'Exit 0 if the warmer runs, 3 if not'
complete -c flame -n '__flame_sub_wants_action warmer' -a stop -d 'Let running jobs finish, then stop the warmer'
complete -c flame -n '__flame_sub_wants_action warmer' -a run -d 'Run the warmer in the foreground'
