# bash completion for ibs-promote                               -*- shell-script -*-
# Installed as share/bash-completion/completions/ibs-promote.

_ibs_promote_sampling_opts='-a --all-cpus -p --pid -G --cgroup -s --sampler -c --period
	-d --duration --ldlat --ibs-cycles --l3-miss --mmap-pages --wakeup-bytes --drain-ms
	--scan-ms'
_ibs_promote_policy_opts='--policy --interval --rate --min-share --min-heat --fallback-heat
	--pingpong --watermark --max-pages --decay-shift --top-tier --no-follow --no-demote
	--demote-idle'

_ibs_promote()
{
	local cur prev words cword split
	_init_completion -s || return

	local cmds='probe record info dump run replay heatmap help version'
	local i cmd=''
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-v | --verbose) ;;
		-*) ;;
		*)
			cmd=${words[i]}
			break
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-v --verbose -h --help --version' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		fi
		return
	fi

	# A value for the option before the cursor.
	case $prev in
	-s | --sampler)
		COMPREPLY=($(compgen -W 'auto ibs pebs soft hint' -- "$cur"))
		return
		;;
	--policy)
		COMPREPLY=($(compgen -W 'locality last-accessor fixed-node: none' -- "$cur"))
		[[ ${COMPREPLY-} == *: ]] && compopt -o nospace
		return
		;;
	-p | --pid)
		_pids
		return
		;;
	-G | --cgroup)
		[[ -z $cur ]] && cur=/sys/fs/cgroup/
		_filedir -d
		return
		;;
	--config | -o | --output | --json | --record | --decisions)
		_filedir
		return
		;;
	-c | --period | -d | --duration | --ldlat | --mmap-pages | --wakeup-bytes | \
		--drain-ms | --scan-ms | --interval | --rate | --min-share | --min-heat | \
		--fallback-heat | --pingpong | --watermark | --max-pages | --decay-shift | \
		--top-tier | --demote-idle | --baseline-node | -n | --limit | --cols | --rows | \
		--region-kib | --metrics-listen)
		return
		;;
	esac
	[[ $split == true ]] && return

	local opts=''
	case $cmd in
	probe | info) opts='-j --json -h --help' ;;
	dump) opts='-n --limit -u --unordered -i --invalid -h --help' ;;
	record)
		opts="-o --output --config -h --help $_ibs_promote_sampling_opts"
		# after --, complete the command to record
		for ((i = 1; i < cword; i++)); do
			if [[ ${words[i]} == -- ]]; then
				_command_offset $((i + 1))
				return
			fi
		done
		;;
	heatmap) opts='--by --svg --decisions --cols --rows --region-kib -p --pid -h --help' ;;
	run) opts="--dry-run --json --record --metrics-listen --metrics-textfile --config -h --help $_ibs_promote_sampling_opts $_ibs_promote_policy_opts" ;;
	replay) opts="--evaluate --baseline-node --json --decisions --no-progress --config -h --help $_ibs_promote_policy_opts" ;;
	*) return ;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace
	elif [[ $cmd == info || $cmd == dump || $cmd == replay || $cmd == heatmap ]]; then
		# recordings: perf.data files
		_filedir '@(data|old)'
	fi
} &&
	complete -F _ibs_promote ibs-promote
