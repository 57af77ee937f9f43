//! Simulator of Spira REST v7 (issue 4 builds it).
