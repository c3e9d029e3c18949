# SPDX-License-Identifier: GPL-2.0-or-later
#
# fish completion for iommuctl.  Lists no command and no option: it asks the
# binary (`iommuctl help --commands`, `iommuctl help --options [COMMAND]`, see
# iommuctl-help(8)).  PCI addresses, groups and drivers are read from sysfs
# under the --sysroot typed on the line (default /).

function __iommuctl_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l bin $tokens[1]
    command -q $bin; or test -x "$bin"; or set bin iommuctl
    set -l root /
    set -l cmd
    set -l skip 0
    for i in (seq 2 (count $tokens))
        if test $skip = 1
            set skip 0
            continue
        end
        set -l w $tokens[$i]
        switch $w
            case --sysroot
                if test (count $tokens) -ge (math $i + 1)
                    set root $tokens[(math $i + 1)]
                end
                test -z "$cmd"; and set skip 1
            case '--sysroot=*'
                set root (string replace -- --sysroot= '' $w)
            case '-*'
            case '*'
                test -z "$cmd"; and set cmd $w
        end
    end
    set -l prev $tokens[-1]
    set -l opts
    set -l hint
    set -l argkind -
    for line in ($bin help --options $cmd 2>/dev/null)
        set -l f (string split \t -- $line)
        switch $f[1]
            case option
                set -a opts $f[2]
                test "$f[3]" != -; and set -a opts $f[3]
                if test "$f[4]" != -; and begin; test "$prev" = "$f[2]"; or test "$prev" = "$f[3]"; end
                    set hint $f[5]
                    test "$hint" = -; and set hint none
                end
            case args
                set argkind $f[2]
        end
    end
    set -l kinds $argkind
    if test -n "$hint"
        set kinds $hint
    else if string match -q -- '-*' $cur; or test "$argkind" = -
        printf '%s\n' $opts
        return
    end
    set root (string trim -r -c / -- $root)
    for kind in (string split ' ' -- $kinds)
        switch $kind
            case device
                for f in $root/sys/bus/pci/devices/*
                    basename $f
                end
                for f in $root/sys/class/net/*
                    set -l n (basename $f)
                    test $n != lo; and echo $n
                end
            case group
                for f in $root/sys/kernel/iommu_groups/*
                    basename $f
                end
            case driver
                echo none
                for f in $root/sys/bus/pci/drivers/*
                    basename $f
                end
            case policy
                printf '%s\n' check bind bind-group
            case command
                $bin help --commands 2>/dev/null | string split -f1 \t
            case file
                __fish_complete_path $cur
            case dir
                __fish_complete_directories $cur
        end
    end
end

complete -c iommuctl -f -a '(__iommuctl_complete)'
