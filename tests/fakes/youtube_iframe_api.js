// A stand-in for https://www.youtube.com/iframe_api in browser tests: the part of YT.Player the page uses, with no
// network. A video listed in window.FAKE_YT_UNPLAYABLE fails with error 150 (embedding refused), as YouTube's
// player reports it; window.fakeYT.loaded lists every video the page asked for, fakeYT.player.end() ends the one
// playing.
(() => {
  const fake = (window.fakeYT = { loaded: [], player: null });

  class Player {
    constructor(elementId, options) {
      this.options = options;
      this.state = -1;
      fake.player = this;
      const frame = Object.assign(document.createElement("iframe"), { id: elementId, title: "fake YouTube player" });
      document.getElementById(elementId).replaceWith(frame);
      setTimeout(() => {
        options.events.onReady({ target: this });
        this.loadVideoById(options.videoId);
      }, 0);
    }

    loadVideoById(videoId) {
      fake.loaded.push(videoId);
      setTimeout(() => {
        if ((window.FAKE_YT_UNPLAYABLE || []).includes(videoId)) this.options.events.onError({ target: this, data: 150 });
        else this.setState(1);
      }, 0);
    }

    setState(state) {
      this.state = state;
      this.options.events.onStateChange({ target: this, data: state });
    }

    playVideo() { this.setState(1); }

    pauseVideo() { this.setState(2); }

    getPlayerState() { return this.state; }

    end() { this.setState(0); }
  }

  window.YT = { Player, PlayerState: { UNSTARTED: -1, ENDED: 0, PLAYING: 1, PAUSED: 2, BUFFERING: 3, CUED: 5 } };
})();
