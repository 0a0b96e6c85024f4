// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Mode, TaskParams} from "../FedTypes.sol";

/// @title Schedule
/// @notice The deadlines of a round's input phases, in both modes, from the round's start (docs/protocol.md
/// sections 8.2 and 10.12). Everything after the inputs (propose, challenge, finalize) starts at revealEnd.
///
///     plain:  commit [start, start + cw) · reveal [commitEnd, commitEnd + rw)
///     secure: advertise [start, start + cw) · commit [start + cw, start + 2cw) · upload [commitEnd, + rw)
///             · availability [uploadEnd, + 2A) · unmask [unmaskStart, + rw)
///
/// with cw = commitWindow, rw = revealWindow and A = availabilityWindow. In secure mode masked vectors may be
/// challenged until uploadEnd + A and each challenge is answered within A, so every one is settled when the
/// unmask phase opens and the survivors release their shares for the final set (section 11.2).
library Schedule {
    /// @notice End of the commit phase (plain: commits; secure: share commitments).
    function commitEnd(Mode mode, TaskParams storage p, uint256 start) internal view returns (uint256) {
        return mode == Mode.Plain ? start + p.commitWindow : start + 2 * uint256(p.commitWindow);
    }

    /// @notice End of every input phase: the propose window opens here.
    function revealEnd(Mode mode, TaskParams storage p, uint256 start) internal view returns (uint256) {
        if (mode == Mode.Plain) return start + uint256(p.commitWindow) + p.revealWindow;
        return unmaskStart(p, start) + p.revealWindow;
    }

    /// @notice Secure mode: end of the advertise phase (the round seed may be fixed from here).
    function advertiseEnd(TaskParams storage p, uint256 start) internal view returns (uint256) {
        return start + p.commitWindow;
    }

    /// @notice Secure mode: end of the upload phase.
    function uploadEnd(TaskParams storage p, uint256 start) internal view returns (uint256) {
        return start + 2 * uint256(p.commitWindow) + p.revealWindow;
    }

    /// @notice Secure mode: until when a masked vector may be challenged.
    function maskedChallengeEnd(TaskParams storage p, uint256 start) internal view returns (uint256) {
        return uploadEnd(p, start) + p.availabilityWindow;
    }

    /// @notice Secure mode: start of the unmask phase, when every masked-vector challenge has been settled.
    function unmaskStart(TaskParams storage p, uint256 start) internal view returns (uint256) {
        return uploadEnd(p, start) + 2 * uint256(p.availabilityWindow);
    }

    /// @notice From when a member that committed and gave no input (plain: no reveal; secure: no upload) may
    /// be slashed with a bounty.
    function missedInputAt(Mode mode, TaskParams storage p, uint256 start) internal view returns (uint256) {
        return mode == Mode.Plain ? revealEnd(mode, p, start) : uploadEnd(p, start);
    }

    /// @notice The length of a round with no proposal delays: its input phases plus a propose and a challenge
    /// window (the unit of the idle rule).
    function span(Mode mode, TaskParams storage p) internal view returns (uint256) {
        return revealEnd(mode, p, 0) + p.proposeWindow + p.challengeWindow;
    }
}
