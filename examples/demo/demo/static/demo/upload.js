// The package demo's page script: jQuery File Upload sends the file in chunks
// of 100 kB (the first answer's upload_id goes with every later chunk), SparkMD5
// hashes it in slices of the same size, and on `done` the complete URL gets the
// upload_id and the md5.
$(function () {
  "use strict";
  var CHUNK_SIZE = 100000;  // 100 kB
  var $input = $("#chunked_upload"),
      csrf = $("input[name='csrfmiddlewaretoken']").val(),
      // Shared with the plugin: an upload_id pushed after the first chunk goes
      // with every later chunk.
      formData = [{name: "csrfmiddlewaretoken", value: csrf}],
      md5 = null;  // a promise of the file's md5

  function calculateMd5(file) {
    var deferred = $.Deferred(),
        spark = new SparkMD5.ArrayBuffer(),
        chunks = Math.ceil(file.size / CHUNK_SIZE),
        current = 0;
    function readNext() {
      var reader = new FileReader(),
          start = current * CHUNK_SIZE,
          end = Math.min(start + CHUNK_SIZE, file.size);
      reader.onload = function (e) {
        spark.append(e.target.result);
        current++;
        if (current < chunks) {
          readNext();
        } else {
          deferred.resolve(spark.end());
        }
      };
      reader.onerror = function () { deferred.reject(reader.error); };
      reader.readAsArrayBuffer(file.slice(start, end));
    }
    if (chunks === 0) {
      deferred.resolve(spark.end());
    } else {
      readNext();
    }
    return deferred.promise();
  }

  function showProgress(percent) {
    $("#progress").attr("aria-valuenow", percent)
      .find(".bar").css("width", percent + "%").end()
      .find(".label").text(percent + "%");
  }

  function showMessage(text, kind) {
    $("#messages").append($("<p>").addClass(kind).text(text));
  }

  function errorText(jqXHR, fallback) {
    var detail = jqXHR && jqXHR.responseJSON && jqXHR.responseJSON.detail;
    return detail || (jqXHR && jqXHR.status ? "HTTP " + jqXHR.status : fallback);
  }

  $input.fileupload({
    url: $input.data("upload-url"),
    dataType: "json",
    maxChunkSize: CHUNK_SIZE,
    formData: formData,
    add: function (e, data) {  // before the upload starts
      $("#messages, #chunks").empty();
      showProgress(0);
      // A second file starts a new upload: keep only the CSRF token.
      formData.splice(1);
      md5 = calculateMd5(data.files[0]);
      data.submit();
    },
    chunkdone: function (e, data) {  // after each chunk
      if (formData.length < 2) {
        formData.push({name: "upload_id", value: data.result.upload_id});
      }
      var $chunks = $("#chunks").append($("<li>").text(JSON.stringify(data.result)));
      $chunks.scrollTop($chunks.prop("scrollHeight"));  // keep the latest in view
      showProgress(Math.floor(data.loaded / data.total * 100));
    },
    done: function (e, data) {  // after the last chunk
      // The upload can finish before the hash on a fast link: wait for it.
      md5.then(function (hash) {
        return $.ajax({
          type: "POST",
          url: $input.data("complete-url"),
          data: {csrfmiddlewaretoken: csrf, upload_id: data.result.upload_id, md5: hash},
          dataType: "json"
        });
      }).then(function (answer) {
        showMessage(answer.message, "success");
      }, function (jqXHR) {
        showMessage("Completing the upload failed: " + errorText(jqXHR, "md5"), "error");
      });
    },
    fail: function (e, data) {
      showMessage("Upload failed: " + errorText(data.jqXHR, data.errorThrown || "error"), "error");
    }
  });
});
