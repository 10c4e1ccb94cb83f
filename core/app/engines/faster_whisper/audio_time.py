"""Samples and seconds as Whisper hears audio: the sampling rate, its window, and a time kept within the audio."""

SAMPLING_RATE = 16000
# Whisper's encoder sees 30 s at a time: a shorter stretch costs a whole window of encoder all the same.
WINDOW_SEC = 30.0


def clamp(seconds, duration):
    # Whisper's timestamps come in 20 ms steps and can overshoot the end of the audio slightly.
    return min(max(0.0, float(seconds)), duration)
