package metrics

// rougeBeta weighs recall over precision in ROUGE-L's F-measure.
const rougeBeta = 1.2

// rougeL is pycocoevalcap's sentence ROUGE-L: the longest common subsequence
// with each reference gives a precision and a recall; the largest precision
// and the largest recall over the references (taken separately, as
// pycocoevalcap does) make the F-measure (1+b²)PR/(R+b²P), b = 1.2.
func rougeL(cand []string, refs [][]string) float64 {
	if len(cand) == 0 {
		return 0
	}
	var pMax, rMax float64
	for _, ref := range refs {
		if len(ref) == 0 {
			continue
		}
		l := float64(lcsLen(cand, ref))
		pMax = max(pMax, l/float64(len(cand)))
		rMax = max(rMax, l/float64(len(ref)))
	}
	if pMax == 0 || rMax == 0 {
		return 0
	}
	b2 := rougeBeta * rougeBeta
	return (1 + b2) * pMax * rMax / (rMax + b2*pMax)
}

// lcsLen is the length of the longest common subsequence of a and b.
func lcsLen(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(cur[j], prev[j+1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
