#!/usr/bin/env bash
# The self-predicting state of the Sacramento et al. (2018) microcircuit:
# with W_PI = -B1 and W_IP = g_B/(g_l+g_B) (g_l+g_D)/g_D W2 (init formulas),
# the interneurons predict the output layer and cancel the top-down input,
# so with no target the apical potential is ~0 (paper: ~5e-7 after settling
# versus ~4 from random weights).  A wrong factor must not give ~0.
. "$srcdir/tests/lib.sh"
model=$srcdir/tests/ref/self_predicting_init.dend
check "compiles" "$DENDC" "$model" -o "$TMP/sp"
check "runs" "$TMP/sp" --quiet --out "$TMP/ok"
rms=$(awk -F, 'NR==2{print $2}' "$TMP/ok/metrics.csv")
echo "apical rms from the self-predicting state: $rms"
check "apical potential ~0 (< 1e-4) with no target" awk -v r="$rms" 'BEGIN{exit !(r < 1e-4)}'
"$TMP/sp" --quiet --set c_ip=0.5 --out "$TMP/bad" >/dev/null 2>&1
bad=$(awk -F, 'NR==2{print $2}' "$TMP/bad/metrics.csv")
echo "apical rms with a wrong W_IP factor: $bad"
check "a wrong factor leaves the apical potential far from 0" awk -v r="$bad" 'BEGIN{exit !(r > 1e-2)}'
check "with tied transposed top-down weights too" "$TMP/sp" --quiet --variant transposed --out "$TMP/tied"
tied=$(awk -F, 'NR==2{print $2}' "$TMP/tied/metrics.csv")
echo "apical rms, tied variant (W_PI = -transpose(W2)): $tied"
check "apical potential ~0 (< 1e-4) with tied weights" awk -v r="$tied" 'BEGIN{exit !(r < 1e-4)}'
# The attenuation factors predict() uses, as dendc --dump=ir spells them.
# -O0: the equations as lowered, before optimisation hoists per-row factors.
ir=$("$DENDC" -O0 --dump=ir "$srcdir/models/sacramento2018.dend")
check "hidden basal prediction uses g_B/(g_l+g_B+g_A)" sh -c "echo \"\$1\" | grep -q 'mat W1.filter.*(g_B / ((g_l + g_B) + g_A)) \* P1.basal'" _ "$ir"
check "output basal prediction uses g_B/(g_l+g_B)" sh -c "echo \"\$1\" | grep -q 'mat W2.filter.*(g_B / (g_l + g_B)) \* P2.basal'" _ "$ir"
check "interneuron prediction uses g_D/(g_l+g_D)" sh -c "echo \"\$1\" | grep -q 'mat WIP.filter.*(g_D / (g_l + g_D)) \* I1.dend'" _ "$ir"
check "the PI rule reads the raw apical potential" sh -c "echo \"\$1\" | grep -q 'mat WPI.filter.*((-eta_pi) \* P1.apical\[i\]) \* I1.r\[j\]'" _ "$ir"
# Learning the self-predicting state from random weights: only the IP and PI
# rules, no target; the apical potential must fall at least 10x.
check "the self-prediction model compiles" "$DENDC" "$srcdir/models/sacramento2018_self_pred.dend" -o "$TMP/learn"
check "it runs 3 epochs" "$TMP/learn" --quiet --epochs 3 --out "$TMP/learned"
ratio=$(awk -F, 'NR==2{a=$2} END{print a/$2}' "$TMP/learned/metrics.csv")
echo "apical_rms epoch 0 / epoch 3 = $ratio"
check "apical_rms falls at least 10x" awk -v r="$ratio" 'BEGIN{exit !(r >= 10)}'
finish
