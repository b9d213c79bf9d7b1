package timeline_test

import (
	"testing"

	"github.com/mailtrail/mailtrail/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
