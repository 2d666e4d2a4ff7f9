package sal

import "time"

// TAIMinusUTC is TAI − UTC in seconds, 37 s since 2017-01-01 and until the
// next leap second. SAL stamps private_sndStamp in TAI; the EFD's
// private_efdStamp is the UTC of that instant.
const TAIMinusUTC = 37.0

// TAINow is the current TAI time in unix seconds.
func TAINow() float64 {
	return float64(time.Now().UnixNano())/1e9 + TAIMinusUTC
}

// UTCFromTAI converts TAI unix seconds to UTC unix seconds.
func UTCFromTAI(tai float64) float64 { return tai - TAIMinusUTC }
