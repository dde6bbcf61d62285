//! Collective bargaining as a sector: the figures a sector is judged by, read from the rounds the
//! engine runs (`workflows/bargaining_round.toml`).

pub mod figures;
