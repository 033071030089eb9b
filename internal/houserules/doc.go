// Package houserules holds tests that read tollgate's own source and fail
// when a house rule is broken (STYLE habit 16): no binary floating point in
// code that handles money, and no panic in code that decodes input.
package houserules
